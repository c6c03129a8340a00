#include "BertKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define BERT_X86 1
#include <immintrin.h>
#include "simd256.h"
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,fma")))
#define AVX2 __attribute__((target("avx2,fma")))
#endif

/* Packed panels are NR columns wide; AVX-512 tiles are MR rows, AVX2 tiles MR2 rows (16 registers). */
enum { NR = 32, MR = 8, MR2 = 6 };

int bert_best_isa(void) {
#if BERT_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
        if (__builtin_cpu_supports("avx512bf16")) return BERT_ISA_AVX512_BF16;
        return BERT_ISA_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return BERT_ISA_AVX2;
#endif
    return BERT_ISA_PORTABLE;
}

static inline int panels(int n) { return (n + NR - 1) / NR; }

/* Rows of A kept hot in L2 while one 32-column weight panel is swept over them. */
static inline int row_block(int k) {
    int rows = (65536 / (k > 0 ? k : 1)) & ~(MR - 1);
    if (rows < MR) rows = MR;
    if (rows > 128) rows = 128;
    return rows;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Packing */

size_t bert_packed_f32_count(int n, int k) { return (size_t)panels(n) * (size_t)k * NR; }

void bert_pack_f32(const float *w, int n, int k, float *packed) {
    for (int p = 0; p < panels(n); p++) {
        float *panel = packed + (size_t)p * k * NR;
        for (int kk = 0; kk < k; kk++) {
            for (int j = 0; j < NR; j++) {
                int col = p * NR + j;
                panel[(size_t)kk * NR + j] = col < n ? w[(size_t)col * k + kk] : 0.0f;
            }
        }
    }
}

static inline uint16_t to_bf16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40); /* quiet NaN */
    bits += 0x7fffu + ((bits >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(bits >> 16);
}

static inline int even(int k) { return (k + 1) & ~1; }

size_t bert_packed_bf16_count(int n, int k) { return (size_t)panels(n) * (size_t)even(k) * NR; }

void bert_pack_bf16(const float *w, int n, int k, uint16_t *packed) {
    int pairs = even(k) / 2;
    for (int p = 0; p < panels(n); p++) {
        uint16_t *panel = packed + (size_t)p * pairs * 2 * NR;
        for (int q = 0; q < pairs; q++) {
            for (int j = 0; j < NR; j++) {
                int col = p * NR + j;
                for (int h = 0; h < 2; h++) {
                    int kk = 2 * q + h;
                    float value = (col < n && kk < k) ? w[(size_t)col * k + kk] : 0.0f;
                    panel[((size_t)q * NR + j) * 2 + h] = to_bf16(value);
                }
            }
        }
    }
}

/* int16 panels: 16 output columns per panel; the inputs in blocks of QK, each (column, block) with its own
 * scale so that the block's largest weight becomes ±QMAX. Inside a block, pairs of consecutive inputs sit
 * next to each other per column, the operand layout of vpmaddwd. QK · QMAX² < 2³¹, so a block's products
 * sum exactly in 32-bit lanes before its scales are applied in f32. */
enum { QK = 128, QMAX = 4095, NQ = 16 };

static inline int qblocks(int k) { return (k + QK - 1) / QK; }
static inline int qpanels(int n) { return (n + NQ - 1) / NQ; }

size_t bert_packed_i16_count(int n, int k) { return (size_t)qpanels(n) * (size_t)qblocks(k) * QK * NQ; }
size_t bert_packed_i16_scale_count(int n, int k) { return (size_t)qpanels(n) * (size_t)qblocks(k) * NQ; }

void bert_pack_i16(const float *w, int n, int k, int16_t *packed, float *scales) {
    int blocks = qblocks(k);
    for (int p = 0; p < qpanels(n); p++) {
        for (int b = 0; b < blocks; b++) {
            int16_t *block = packed + ((size_t)p * blocks + b) * QK * NQ;
            float *scale = scales + ((size_t)p * blocks + b) * NQ;
            int start = b * QK, count = k - start < QK ? k - start : QK;
            for (int j = 0; j < NQ; j++) {
                int col = p * NQ + j;
                const float *row = col < n ? w + (size_t)col * k + start : NULL;
                float largest = 0;
                for (int i = 0; row && i < count; i++) largest = fabsf(row[i]) > largest ? fabsf(row[i]) : largest;
                float inverse = largest > 0 ? QMAX / largest : 0;
                scale[j] = largest / QMAX;
                for (int i = 0; i < QK; i++) {
                    long q = (row && i < count) ? lrintf(row[i] * inverse) : 0;
                    if (q > QMAX) q = QMAX;
                    if (q < -QMAX) q = -QMAX;
                    block[(i / 2) * NQ * 2 + j * 2 + (i & 1)] = (int16_t)q;
                }
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* Portable reference paths */

static inline float gelu_scalar(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

static void gemm_f32_portable(const float *x, int m, int k, const float *packed, int n, const float *bias,
                              float *y, int gelu) {
    float acc[NR];
    for (int p = 0; p < panels(n); p++) {
        const float *panel = packed + (size_t)p * k * NR;
        int cols = n - p * NR < NR ? n - p * NR : NR;
        for (int i = 0; i < m; i++) {
            const float *row = x + (size_t)i * k;
            for (int j = 0; j < NR; j++) acc[j] = 0.0f;
            for (int kk = 0; kk < k; kk++) {
                float a = row[kk];
                const float *b = panel + (size_t)kk * NR;
                for (int j = 0; j < NR; j++) acc[j] += a * b[j];
            }
            float *out = y + (size_t)i * n + p * NR;
            for (int j = 0; j < cols; j++) {
                float v = acc[j] + (bias ? bias[p * NR + j] : 0.0f);
                out[j] = gelu ? gelu_scalar(v) : v;
            }
        }
    }
}

static void layernorm_portable(float *x, const float *residual, const float *gamma, const float *beta, int rows,
                               int cols, float eps) {
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * cols;
        if (residual) {
            const float *add = residual + (size_t)r * cols;
            for (int c = 0; c < cols; c++) row[c] += add[c];
        }
        double sum = 0;
        for (int c = 0; c < cols; c++) sum += row[c];
        float mean = (float)(sum / cols);
        double squares = 0;
        for (int c = 0; c < cols; c++) {
            double d = row[c] - mean;
            squares += d * d;
        }
        float inv = (float)(1.0 / sqrt(squares / cols + eps));
        for (int c = 0; c < cols; c++) row[c] = (row[c] - mean) * inv * gamma[c] + beta[c];
    }
}

static void attention_portable(const float *qkv, int tokens, int hidden, int heads, float *out, float *scores) {
    int dh = hidden / heads;
    float scale = 1.0f / sqrtf((float)dh);
    size_t stride = (size_t)3 * hidden;
    for (int h = 0; h < heads; h++) {
        for (int i = 0; i < tokens; i++) {
            const float *q = qkv + i * stride + h * dh;
            float best = -INFINITY;
            for (int j = 0; j < tokens; j++) {
                const float *key = qkv + j * stride + hidden + h * dh;
                float s = 0;
                for (int c = 0; c < dh; c++) s += q[c] * key[c];
                scores[j] = s * scale;
                if (scores[j] > best) best = scores[j];
            }
            float total = 0;
            for (int j = 0; j < tokens; j++) {
                scores[j] = expf(scores[j] - best);
                total += scores[j];
            }
            float *o = out + (size_t)i * hidden + h * dh;
            for (int c = 0; c < dh; c++) o[c] = 0;
            for (int j = 0; j < tokens; j++) {
                const float *v = qkv + j * stride + 2 * hidden + h * dh;
                float p = scores[j] / total;
                for (int c = 0; c < dh; c++) o[c] += p * v[c];
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* AVX-512 paths */

#if BERT_X86

/* e^x for x ≤ 88: 2^n · P(r) with r = x − n·ln2, |r| ≤ ln2/2, P the degree-7 Taylor polynomial
 * (relative error < 3e-9 before rounding); vscalefps applies 2^n and flushes underflow to 0. */
AVX512 static inline __m512 exp512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    x = _mm512_min_ps(x, _mm512_set1_ps(88.7f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* GELU(x) = x/2 · (1 + erf(x/√2)), erf by Abramowitz–Stegun 7.1.26 (absolute error ≤ 1.5e-7). */
AVX512 static inline __m512 gelu512(__m512 x) {
    __m512 z = _mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f));
    __m512 a = _mm512_abs_ps(z);
    __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(a, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
    __m512 poly = _mm512_set1_ps(1.061405429f);
    poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-1.453152027f));
    poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(1.421413741f));
    poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-0.284496736f));
    poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(0.254829592f));
    poly = _mm512_mul_ps(poly, t);
    __m512 e = exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), a));
    __m512 erf_abs = _mm512_fnmadd_ps(poly, e, _mm512_set1_ps(1.0f));
    /* restore the sign of z */
    __m512 sign = _mm512_and_ps(z, _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u)));
    __m512 erf = _mm512_or_ps(erf_abs, sign);
    return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), _mm512_add_ps(erf, _mm512_set1_ps(1.0f)));
}

/* Adds bias, applies GELU, and stores an MR×32 tile of accumulators to y (rows/cols clipped). */
AVX512 static inline __attribute__((always_inline)) void store_tile(__m512 acc[MR][2], float *y, int ldy, int rows, int cols, const float *bias,
                                     int gelu) {
    __mmask16 lo = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 hi = cols >= 32 ? 0xffff : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(lo, bias) : _mm512_setzero_ps();
    __m512 b1 = bias ? _mm512_maskz_loadu_ps(hi, bias + 16) : _mm512_setzero_ps();
    for (int i = 0; i < rows; i++) {
        __m512 v0 = _mm512_add_ps(acc[i][0], b0);
        __m512 v1 = _mm512_add_ps(acc[i][1], b1);
        if (gelu) {
            v0 = gelu512(v0);
            v1 = gelu512(v1);
        }
        _mm512_mask_storeu_ps(y + (size_t)i * ldy, lo, v0);
        _mm512_mask_storeu_ps(y + (size_t)i * ldy + 16, hi, v1);
    }
}

/* One MR×32 tile over the whole k: 16 accumulators stay in registers; each step loads two weight vectors
 * and broadcasts one activation per row. */
AVX512 static inline __attribute__((always_inline)) void tile_f32(const float *a, int lda, const float *panel, int k, __m512 acc[MR][2]) {
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_loadu_ps(panel + (size_t)kk * NR);
        __m512 b1 = _mm512_loadu_ps(panel + (size_t)kk * NR + 16);
        for (int i = 0; i < MR; i++) {
            __m512 av = _mm512_set1_ps(a[(size_t)i * lda + kk]);
            acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
        }
    }
}

/* y[m][n] (row stride ldy) = a[m][k] (row stride lda) · packed + bias, GELU when asked. Rows are processed
 * in blocks that stay in L2 while each 32-column weight panel sweeps over them. Returns 0 when out of memory. */
AVX512 static int gemm_f32_strided(const float *a, int lda, int m, int k, const float *packed, int n,
                                   const float *bias, float *y, int ldy, int gelu) {
    int block = row_block(k);
    float *tail = NULL; /* zero-padded copy of the last partial row tile */
    int full = m / MR * MR;
    if (full < m) {
        tail = calloc((size_t)MR * (k > 0 ? k : 1), sizeof(float));
        if (!tail) return 0;
        for (int r = 0; r < m - full; r++) memcpy(tail + (size_t)r * k, a + (size_t)(full + r) * lda, (size_t)k * sizeof(float));
    }
    for (int m0 = 0; m0 < m; m0 += block) {
        int m1 = m0 + block < m ? m0 + block : m;
        for (int p = 0; p < panels(n); p++) {
            const float *panel = packed + (size_t)p * k * NR;
            int cols = n - p * NR < NR ? n - p * NR : NR;
            const float *pb = bias ? bias + p * NR : NULL;
            for (int i = m0; i < m1; i += MR) {
                int rows = m1 - i < MR ? m1 - i : MR;
                const float *rowsA = rows < MR ? tail : a + (size_t)i * lda;
                int stride = rows < MR ? k : lda;
                __m512 acc[MR][2];
                tile_f32(rowsA, stride, panel, k, acc);
                store_tile(acc, y + (size_t)i * ldy + p * NR, ldy, rows, cols, pb, gelu);
            }
        }
    }
    free(tail);
    return 1;
}

AVX512 static void gemm_f32_avx512(const float *x, int m, int k, const float *packed, int n, const float *bias,
                                   float *y, int gelu) {
    if (!gemm_f32_strided(x, k, m, k, packed, n, bias, y, n, gelu)) gemm_f32_portable(x, m, k, packed, n, bias, y, gelu);
}

AVX512 static void layernorm_avx512(float *x, const float *residual, const float *gamma, const float *beta,
                                    int rows, int cols, float eps) {
    if (cols % 16 != 0) {
        layernorm_portable(x, residual, gamma, beta, rows, cols, eps);
        return;
    }
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * cols;
        __m512 sum = _mm512_setzero_ps();
        for (int c = 0; c < cols; c += 16) {
            __m512 v = _mm512_loadu_ps(row + c);
            if (residual) v = _mm512_add_ps(v, _mm512_loadu_ps(residual + (size_t)r * cols + c));
            _mm512_storeu_ps(row + c, v);
            sum = _mm512_add_ps(sum, v);
        }
        __m512 mean = _mm512_set1_ps(_mm512_reduce_add_ps(sum) / (float)cols);
        __m512 squares = _mm512_setzero_ps();
        for (int c = 0; c < cols; c += 16) {
            __m512 d = _mm512_sub_ps(_mm512_loadu_ps(row + c), mean);
            squares = _mm512_fmadd_ps(d, d, squares);
        }
        float variance = _mm512_reduce_add_ps(squares) / (float)cols;
        __m512 inv = _mm512_set1_ps(1.0f / sqrtf(variance + eps));
        for (int c = 0; c < cols; c += 16) {
            __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(row + c), mean), inv);
            _mm512_storeu_ps(row + c, _mm512_fmadd_ps(d, _mm512_loadu_ps(gamma + c), _mm512_loadu_ps(beta + c)));
        }
    }
}

/* Softmax of one score row in place. */
AVX512 static void softmax_row_avx512(float *row, int count) {
    __m512 best = _mm512_set1_ps(-INFINITY);
    for (int j = 0; j < count; j += 16) {
        int left = count - j;
        __mmask16 valid = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
        best = _mm512_mask_max_ps(best, valid, best, _mm512_maskz_loadu_ps(valid, row + j));
    }
    __m512 top = _mm512_set1_ps(_mm512_reduce_max_ps(best));
    __m512 total = _mm512_setzero_ps();
    for (int j = 0; j < count; j += 16) {
        int left = count - j;
        __mmask16 valid = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
        __m512 e = _mm512_maskz_mov_ps(valid, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(valid, row + j), top)));
        total = _mm512_add_ps(total, e);
        _mm512_mask_storeu_ps(row + j, valid, e);
    }
    __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(total));
    for (int j = 0; j < count; j += 16) {
        int left = count - j;
        __mmask16 valid = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
        _mm512_mask_storeu_ps(row + j, valid, _mm512_mul_ps(_mm512_maskz_loadu_ps(valid, row + j), inv));
    }
}

AVX512BF16 static void gemm_bf16_avx512(const float *x, int m, int k, const uint16_t *packed, int n,
                                        const float *bias, float *y, int gelu, uint16_t *scratch) {
    int kp = even(k);
    int pairs = kp / 2;
    /* Activations to bf16 pairs, rows padded to MR with zeros. */
    int mp = (m + MR - 1) / MR * MR;
    for (int i = 0; i < mp; i++) {
        uint16_t *dst = scratch + (size_t)i * kp;
        if (i >= m) {
            memset(dst, 0, (size_t)kp * sizeof(uint16_t));
            continue;
        }
        const float *src = x + (size_t)i * k;
        int c = 0;
        for (; c + 32 <= k; c += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + c + 16), _mm512_loadu_ps(src + c));
            _mm512_storeu_si512((void *)(dst + c), (__m512i)v);
        }
        for (; c < kp; c++) dst[c] = c < k ? to_bf16(src[c]) : 0;
    }
    const uint32_t *a32 = (const uint32_t *)scratch;
    int block = row_block(k);
    for (int m0 = 0; m0 < m; m0 += block) {
        int m1 = m0 + block < m ? m0 + block : m;
        for (int p = 0; p < panels(n); p++) {
            const uint16_t *panel = packed + (size_t)p * pairs * 2 * NR;
            int cols = n - p * NR < NR ? n - p * NR : NR;
            const float *pb = bias ? bias + p * NR : NULL;
            for (int i = m0; i < m1; i += MR) {
                int rows = m1 - i < MR ? m1 - i : MR;
                const uint32_t *a = a32 + (size_t)i * pairs;
                __m512 acc[MR][2];
                for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
                for (int q = 0; q < pairs; q++) {
                    __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(panel + (size_t)q * 2 * NR));
                    __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(panel + (size_t)q * 2 * NR + 32));
                    for (int r = 0; r < MR; r++) {
                        __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[(size_t)r * pairs + q]);
                        acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
                        acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
                    }
                }
                store_tile(acc, y + (size_t)i * n + p * NR, n, rows, cols, pb, gelu);
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* AVX2 paths: the same packed panels, read as two halves of 16 columns. With 16 vector registers the tile
 * is 6 rows × 16 columns (12 accumulators, two weight vectors, one broadcast), as in BLIS's Haswell kernel. */


/* GELU with the same erf approximation as gelu512. */
AVX2 static inline __m256 gelu256(__m256 x) {
    __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f));
    __m256 signmask = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    __m256 a = _mm256_andnot_ps(signmask, z);
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(a, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.0f)));
    __m256 poly = _mm256_set1_ps(1.061405429f);
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-1.453152027f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(1.421413741f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-0.284496736f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(0.254829592f));
    poly = _mm256_mul_ps(poly, t);
    __m256 e = simd_exp256(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), a));
    __m256 erf = _mm256_or_ps(_mm256_fnmadd_ps(poly, e, _mm256_set1_ps(1.0f)), _mm256_and_ps(z, signmask));
    return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)), _mm256_add_ps(erf, _mm256_set1_ps(1.0f)));
}

/* Stores 16 columns of one row (fewer when `cols` < 16) after bias and GELU. */
AVX2 static inline void store_row16(__m256 v0, __m256 v1, float *y, int cols, const float *bias, int gelu) {
    if (bias) {
        if (cols >= 16) {
            v0 = _mm256_add_ps(v0, _mm256_loadu_ps(bias));
            v1 = _mm256_add_ps(v1, _mm256_loadu_ps(bias + 8));
        } else {
            float b[16] = {0};
            memcpy(b, bias, (size_t)cols * sizeof(float));
            v0 = _mm256_add_ps(v0, _mm256_loadu_ps(b));
            v1 = _mm256_add_ps(v1, _mm256_loadu_ps(b + 8));
        }
    }
    if (gelu) {
        v0 = gelu256(v0);
        v1 = gelu256(v1);
    }
    if (cols >= 16) {
        _mm256_storeu_ps(y, v0);
        _mm256_storeu_ps(y + 8, v1);
    } else {
        float out[16];
        _mm256_storeu_ps(out, v0);
        _mm256_storeu_ps(out + 8, v1);
        memcpy(y, out, (size_t)cols * sizeof(float));
    }
}

/* One MR2×16 tile (columns `half`·16 … of a 32-wide panel) over the whole k. */
AVX2 static inline __attribute__((always_inline)) void tile_f32_avx2(const float *a, int lda, const float *panel, int k,
                                                                     __m256 acc[MR2][2]) {
    for (int i = 0; i < MR2; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int kk = 0; kk < k; kk++) {
        __m256 b0 = _mm256_loadu_ps(panel + (size_t)kk * NR);
        __m256 b1 = _mm256_loadu_ps(panel + (size_t)kk * NR + 8);
        for (int i = 0; i < MR2; i++) {
            __m256 av = _mm256_broadcast_ss(a + (size_t)i * lda + kk);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
    }
}

/* As gemm_f32_strided, with the AVX2 tile. Returns 0 when out of memory. */
AVX2 static int gemm_f32_strided_avx2(const float *a, int lda, int m, int k, const float *packed, int n,
                                      const float *bias, float *y, int ldy, int gelu) {
    int block = row_block(k) / MR2 * MR2;
    if (block < MR2) block = MR2;
    float *tail = NULL;
    int full = m / MR2 * MR2;
    if (full < m) {
        tail = calloc((size_t)MR2 * (k > 0 ? k : 1), sizeof(float));
        if (!tail) return 0;
        for (int r = 0; r < m - full; r++) memcpy(tail + (size_t)r * k, a + (size_t)(full + r) * lda, (size_t)k * sizeof(float));
    }
    for (int m0 = 0; m0 < m; m0 += block) {
        int m1 = m0 + block < m ? m0 + block : m;
        for (int p = 0; p < panels(n); p++) {
            const float *panel = packed + (size_t)p * k * NR;
            int cols = n - p * NR < NR ? n - p * NR : NR;
            for (int half = 0; half < 2 && half * 16 < cols; half++) {
                int halfCols = cols - half * 16 < 16 ? cols - half * 16 : 16;
                const float *pb = bias ? bias + p * NR + half * 16 : NULL;
                for (int i = m0; i < m1; i += MR2) {
                    int rows = m1 - i < MR2 ? m1 - i : MR2;
                    const float *rowsA = rows < MR2 ? tail : a + (size_t)i * lda;
                    int stride = rows < MR2 ? k : lda;
                    __m256 acc[MR2][2];
                    tile_f32_avx2(rowsA, stride, panel + half * 16, k, acc);
                    for (int r = 0; r < rows; r++)
                        store_row16(acc[r][0], acc[r][1], y + (size_t)(i + r) * ldy + p * NR + half * 16, halfCols, pb, gelu);
                }
            }
        }
    }
    free(tail);
    return 1;
}

AVX2 static void gemm_f32_avx2(const float *x, int m, int k, const float *packed, int n, const float *bias,
                               float *y, int gelu) {
    if (!gemm_f32_strided_avx2(x, k, m, k, packed, n, bias, y, n, gelu)) gemm_f32_portable(x, m, k, packed, n, bias, y, gelu);
}

/* As layernorm_avx512, eight columns at a time. */
AVX2 static void layernorm_avx2(float *x, const float *residual, const float *gamma, const float *beta, int rows,
                                int cols, float eps) {
    if (cols % 8 != 0) {
        layernorm_portable(x, residual, gamma, beta, rows, cols, eps);
        return;
    }
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * cols;
        __m256 sum = _mm256_setzero_ps();
        for (int c = 0; c < cols; c += 8) {
            __m256 v = _mm256_loadu_ps(row + c);
            if (residual) v = _mm256_add_ps(v, _mm256_loadu_ps(residual + (size_t)r * cols + c));
            _mm256_storeu_ps(row + c, v);
            sum = _mm256_add_ps(sum, v);
        }
        __m256 mean = _mm256_set1_ps(simd_sum256(sum) / (float)cols);
        __m256 squares = _mm256_setzero_ps();
        for (int c = 0; c < cols; c += 8) {
            __m256 d = _mm256_sub_ps(_mm256_loadu_ps(row + c), mean);
            squares = _mm256_fmadd_ps(d, d, squares);
        }
        __m256 inv = _mm256_set1_ps(1.0f / sqrtf(simd_sum256(squares) / (float)cols + eps));
        for (int c = 0; c < cols; c += 8) {
            __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row + c), mean), inv);
            _mm256_storeu_ps(row + c, _mm256_fmadd_ps(d, _mm256_loadu_ps(gamma + c), _mm256_loadu_ps(beta + c)));
        }
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* AVX2 int16 path. Without BF16 dot products, AVX2's fastest exact multiply is vpmaddwd: 16 products of
 * 16-bit integers per instruction, at the rate of the FMA's 8, so twice the arithmetic of f32. Activations
 * are quantized like the weights (per token and block of QK inputs) into the caller's scratch; each 6×16
 * tile sums a block in 32-bit lanes and scales it into its f32 accumulators. */

/* Rows of `x` as blocks of QK int16 values (zero beyond k) and one scale per block; rows m … rows-1 are
 * zero padding so that every tile is full. */
AVX2 static void quantize_rows_i16(const float *x, int m, int k, int rows, int16_t *q, float *scales) {
    int blocks = qblocks(k);
    __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int r = 0; r < rows; r++) {
        int16_t *out = q + (size_t)r * blocks * QK;
        float *scale = scales + (size_t)r * blocks;
        if (r >= m) {
            memset(out, 0, (size_t)blocks * QK * sizeof(int16_t));
            for (int b = 0; b < blocks; b++) scale[b] = 0;
            continue;
        }
        for (int b = 0; b < blocks; b++) {
            int start = b * QK, count = k - start < QK ? k - start : QK;
            float padded[QK];
            const float *src = x + (size_t)r * k + start;
            if (count < QK) {
                memcpy(padded, src, (size_t)count * sizeof(float));
                memset(padded + count, 0, (size_t)(QK - count) * sizeof(float));
                src = padded;
            }
            __m256 top = _mm256_setzero_ps();
            for (int i = 0; i < QK; i += 8) top = _mm256_max_ps(top, _mm256_and_ps(_mm256_loadu_ps(src + i), magnitude));
            float lanes[8];
            _mm256_storeu_ps(lanes, top);
            float largest = 0;
            for (int i = 0; i < 8; i++) largest = lanes[i] > largest ? lanes[i] : largest;
            scale[b] = largest / QMAX;
            __m256 inverse = _mm256_set1_ps(largest > 0 ? QMAX / largest : 0);
            for (int i = 0; i < QK; i += 16) {
                __m256i lo = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + i), inverse));
                __m256i hi = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + i + 8), inverse));
                /* packs interleaves 128-bit lanes; the permute puts the 16 values back in order. */
                __m256i both = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8);
                _mm256_storeu_si256((__m256i *)(out + b * QK + i), both);
            }
        }
    }
}

AVX2 static void gemm_i16_avx2(const float *x, int m, int k, const int16_t *packed, const float *wscales, int n,
                               const float *bias, float *y, int gelu, void *scratch) {
    int blocks = qblocks(k);
    int rows = (m + MR2 - 1) / MR2 * MR2;
    size_t lda = (size_t)blocks * QK;
    int16_t *qa = scratch;
    float *ascales = (float *)(qa + (size_t)rows * lda);
    quantize_rows_i16(x, m, k, rows, qa, ascales);
    /* Rows of quantized A kept in L2 while one 16-column panel sweeps them. */
    int band = (int)(131072 / (lda * sizeof(int16_t))) / MR2 * MR2;
    if (band < MR2) band = MR2;
    if (band > 192) band = 192;
    for (int m0 = 0; m0 < rows; m0 += band) {
        int m1 = m0 + band < rows ? m0 + band : rows;
        for (int p = 0; p < qpanels(n); p++) {
            const int16_t *panel = packed + (size_t)p * blocks * QK * NQ;
            const float *pscale = wscales + (size_t)p * blocks * NQ;
            int cols = n - p * NQ < NQ ? n - p * NQ : NQ;
            const float *pb = bias ? bias + p * NQ : NULL;
            for (int i = m0; i < m1; i += MR2) {
                __m256 c[MR2][2];
                for (int r = 0; r < MR2; r++) c[r][0] = c[r][1] = _mm256_setzero_ps();
                for (int b = 0; b < blocks; b++) {
                    const int16_t *wb = panel + (size_t)b * QK * NQ;
                    const int16_t *ab = qa + (size_t)i * lda + (size_t)b * QK;
                    __m256i acc[MR2][2];
                    for (int r = 0; r < MR2; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
                    for (int pair = 0; pair < QK / 2; pair++) {
                        __m256i b0 = _mm256_loadu_si256((const __m256i *)(wb + pair * 2 * NQ));
                        __m256i b1 = _mm256_loadu_si256((const __m256i *)(wb + pair * 2 * NQ + 16));
                        for (int r = 0; r < MR2; r++) {
                            int32_t two;
                            memcpy(&two, ab + (size_t)r * lda + 2 * pair, sizeof two);
                            __m256i a = _mm256_set1_epi32(two);
                            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(a, b0));
                            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(a, b1));
                        }
                    }
                    __m256 s0 = _mm256_loadu_ps(pscale + (size_t)b * NQ), s1 = _mm256_loadu_ps(pscale + (size_t)b * NQ + 8);
                    for (int r = 0; r < MR2; r++) {
                        __m256 sa = _mm256_set1_ps(ascales[(size_t)(i + r) * blocks + b]);
                        c[r][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][0]), _mm256_mul_ps(s0, sa), c[r][0]);
                        c[r][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][1]), _mm256_mul_ps(s1, sa), c[r][1]);
                    }
                }
                int live = m - i < MR2 ? m - i : MR2;
                for (int r = 0; r < live; r++)
                    store_row16(c[r][0], c[r][1], y + (size_t)(i + r) * n + p * NQ, cols, pb, gelu);
            }
        }
    }
}

/* Softmax of one score row in place. */
AVX2 static void softmax_row_avx2(float *row, int count) {
    float best = -INFINITY;
    for (int j = 0; j < count; j++) best = row[j] > best ? row[j] : best;
    __m256 top = _mm256_set1_ps(best);
    __m256 total = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= count; j += 8) {
        __m256 e = simd_exp256(_mm256_sub_ps(_mm256_loadu_ps(row + j), top));
        total = _mm256_add_ps(total, e);
        _mm256_storeu_ps(row + j, e);
    }
    float sum = simd_sum256(total);
    for (; j < count; j++) {
        row[j] = expf(row[j] - best);
        sum += row[j];
    }
    __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (j = 0; j + 8 <= count; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), inv));
    for (; j < count; j++) row[j] *= 1.0f / sum;
}

/* The packed-panel GEMM and the row softmax of one instruction set, for attention_panels. */
typedef int (*panel_gemm)(const float *a, int lda, int m, int k, const float *packed, int n, const float *bias,
                          float *y, int ldy, int gelu);
typedef void (*row_softmax)(float *row, int count);

/* Per head, two small GEMMs on the packed-panel kernel: scores = Q·Kᵀ (K packed as the weight panels),
 * a row softmax, then context = P·V (V packed likewise). Scratch layout: K panels, scores, V panels.
 * Returns 0 when out of memory. */
static int attention_panels(const float *qkv, int tokens, int hidden, int heads, float *out, float *scratch,
                            panel_gemm gemm, row_softmax softmax) {
    int dh = hidden / heads;
    int keyPanels = panels(tokens);
    int width = keyPanels * NR; /* row stride of the score matrix */
    float *kpanel = scratch;
    float *scores = kpanel + (size_t)keyPanels * dh * NR;
    float *vpanel = scores + (size_t)tokens * width;
    float scale = 1.0f / sqrtf((float)dh);
    size_t stride = (size_t)3 * hidden;
    for (int h = 0; h < heads; h++) {
        const float *q = qkv + h * dh;
        const float *key = qkv + hidden + h * dh;
        const float *value = qkv + 2 * hidden + h * dh;
        for (int p = 0; p < keyPanels; p++) {
            float *panel = kpanel + (size_t)p * dh * NR;
            for (int j = 0; j < NR; j++) {
                int t = p * NR + j;
                for (int c = 0; c < dh; c++) panel[(size_t)c * NR + j] = t < tokens ? key[t * stride + c] * scale : 0.0f;
            }
        }
        if (!gemm(q, (int)stride, tokens, dh, kpanel, tokens, NULL, scores, width, 0)) return 0;
        for (int i = 0; i < tokens; i++) softmax(scores + (size_t)i * width, tokens);
        for (int p = 0; p < panels(dh); p++) {
            float *panel = vpanel + (size_t)p * tokens * NR;
            for (int t = 0; t < tokens; t++) {
                for (int j = 0; j < NR; j++) {
                    int c = p * NR + j;
                    panel[(size_t)t * NR + j] = c < dh ? value[t * stride + c] : 0.0f;
                }
            }
        }
        if (!gemm(scores, width, tokens, tokens, vpanel, dh, NULL, out + h * dh, hidden, 0)) return 0;
    }
    return 1;
}

#endif

/* ---------------------------------------------------------------------------------------------------- */
/* Dispatch */

void bert_gemm_f32(const float *x, int m, int k, const float *packed, int n, const float *bias, float *y,
                   int gelu, int isa) {
#if BERT_X86
    if (isa >= BERT_ISA_AVX512) {
        gemm_f32_avx512(x, m, k, packed, n, bias, y, gelu);
        return;
    }
    if (isa >= BERT_ISA_AVX2) {
        gemm_f32_avx2(x, m, k, packed, n, bias, y, gelu);
        return;
    }
#endif
    (void)isa;
    gemm_f32_portable(x, m, k, packed, n, bias, y, gelu);
}

size_t bert_gemm_bf16_scratch_count(int m, int k) { return (size_t)((m + MR - 1) / MR * MR) * (size_t)even(k); }

void bert_gemm_bf16(const float *x, int m, int k, const uint16_t *packed, int n, const float *bias, float *y,
                    int gelu, uint16_t *scratch) {
#if BERT_X86
    gemm_bf16_avx512(x, m, k, packed, n, bias, y, gelu, scratch);
#else
    (void)x; (void)m; (void)k; (void)packed; (void)n; (void)bias; (void)y; (void)gelu; (void)scratch;
#endif
}

size_t bert_gemm_i16_scratch_size(int m, int k) {
    size_t rows = (size_t)((m + MR2 - 1) / MR2 * MR2);
    size_t blocks = (size_t)qblocks(k);
    return rows * blocks * QK * sizeof(int16_t) + rows * blocks * sizeof(float);
}

void bert_gemm_i16(const float *x, int m, int k, const int16_t *packed, const float *scales, int n,
                   const float *bias, float *y, int gelu, void *scratch) {
#if BERT_X86
    gemm_i16_avx2(x, m, k, packed, scales, n, bias, y, gelu, scratch);
#else
    (void)x; (void)m; (void)k; (void)packed; (void)scales; (void)n; (void)bias; (void)y; (void)gelu; (void)scratch;
#endif
}

void bert_add_layernorm(float *x, const float *residual, const float *gamma, const float *beta, int rows,
                        int cols, float eps, int isa) {
#if BERT_X86
    if (isa >= BERT_ISA_AVX512) {
        layernorm_avx512(x, residual, gamma, beta, rows, cols, eps);
        return;
    }
    if (isa >= BERT_ISA_AVX2) {
        layernorm_avx2(x, residual, gamma, beta, rows, cols, eps);
        return;
    }
#endif
    (void)isa;
    layernorm_portable(x, residual, gamma, beta, rows, cols, eps);
}

size_t bert_attention_scratch_count(int tokens, int head_dim) {
    size_t width = (size_t)panels(tokens) * NR;
    size_t kpanel = width * (size_t)head_dim;
    size_t scores = (size_t)tokens * width;
    size_t vpanel = (size_t)tokens * (size_t)panels(head_dim) * NR;
    size_t total = kpanel + scores + vpanel;
    return total > (size_t)tokens ? total : (size_t)tokens; /* the portable path needs one score row */
}

void bert_attention(const float *qkv, int tokens, int hidden, int heads, float *out, float *scratch, int isa) {
#if BERT_X86
    if (isa >= BERT_ISA_AVX512 &&
        attention_panels(qkv, tokens, hidden, heads, out, scratch, gemm_f32_strided, softmax_row_avx512)) return;
    if (isa == BERT_ISA_AVX2 &&
        attention_panels(qkv, tokens, hidden, heads, out, scratch, gemm_f32_strided_avx2, softmax_row_avx2)) return;
#endif
    (void)isa;
    attention_portable(qkv, tokens, hidden, heads, out, scratch);
}

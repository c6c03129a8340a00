// Instantiates quant_simd.inc for AVX-512 VNNI and for AVX2; quant_dispatch.c picks one at run time.
#include "quant_kernels.h"
#include "quant_common.h"
#include "quant_internal.h"

#ifdef QK_X86
#include <immintrin.h>
#include <stdlib.h>
#include "simd256.h"

// ---- AVX-512 VNNI (256-bit vectors with the VL encodings) ----
#define QK_SFX(name) name##_vnni
#define QK_TGT __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define QK_DPBUSD(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), (u), (s))
#define QK_EXPAND_BITS(bits) _mm256_maskz_mov_epi8((__mmask32)(bits), _mm256_set1_epi8(0x10))
// vpdpbusd wants an unsigned operand: flip the sign bit (w + 128) and subtract 128 * sum(a) afterwards.
#define QK_SIGNED_DOT(w, a) QK_DPBUSD(_mm256_xor_si256((w), _mm256_set1_epi8((char)0x80)), (a))
#define QK_SIGNED_DOT_BIAS 128.0f
#define QK_TILE 8  // 32 vector registers: eight accumulators fit
#include "quant_simd.inc"
#include "quant_gemm512.inc"

/// Prefill with 512-bit vectors where the format allows; everything else runs the 256-bit body.
QK_TGT void qk_matmul_vnni512(int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
                              const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
                              float *out, size_t out_stride) {
    if (qk_gemm512_fits(type, n))
        qk_gemm_vnni512(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ntok, out, out_stride);
    else
        qk_matmul_vnni(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ax, ntok, out, out_stride);
}

/// e^x for 16 lanes, x <= 88: 2^k * p(r) with r = x - k ln2 in [-ln2/2, ln2/2] and a
/// degree-6 polynomial, within 2 ulp of expf; lanes below -87 give 0.
static inline QK_TGT __m512 qk_exp512(__m512 x) {
    const __m512 log2e = _mm512_set1_ps(1.44269504f), ln2hi = _mm512_set1_ps(0.693145752f),
                 ln2lo = _mm512_set1_ps(1.42860677e-6f);
    __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_LT_OQ);
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, ln2hi, x);
    r = _mm512_fnmadd_ps(k, ln2lo, r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512 e = _mm512_scalef_ps(p, k);
    return _mm512_maskz_mov_ps((__mmask16)~tiny, e);
}

/// gate = silu(gate) * up with the exponential vectorized (scalef saturates to inf, giving silu = 0, for
/// very negative gates).
QK_TGT void qk_swiglu_avx512(float *gate, const float *up, int n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
        __m512 e = qk_exp512(_mm512_min_ps(_mm512_sub_ps(_mm512_setzero_ps(), g), _mm512_set1_ps(88.0f)));
        __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, e));
        _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(silu, _mm512_maskz_loadu_ps(m, up + i)));
    }
}

/// qk_quantize_act_k_scalar with 512-bit vectors, the same bytes and scales bit for bit: the peak is the
/// first element of largest magnitude, and the rounding goes through the same float mantissa trick with a
/// separate multiply and add (an FMA would round once instead of twice). In prefill it quantizes every
/// token's 4864-wide FFN activation, where the scalar peak search, a branch per element, did not vectorize.
QK_TGT void qk_quantize_act_k_avx512(const float *x, int n, int8_t *q, float *d, float *s) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    for (int c = 0; c < n; c += 256) {
        const float *xc = x + c;
        __m512 m = _mm512_setzero_ps();
        // max_ps returns its second operand when the first is NaN: NaNs are skipped, as `a > amax` skips them.
        for (int i = 0; i < 256; i += 16) m = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(xc + i)), m);
        float amax = _mm512_reduce_max_ps(m), peak = 0;
        if (amax > 0) {
            const __m512 va = _mm512_set1_ps(amax);
            for (int i = 0; i < 256; i += 16) {
                __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(xc + i)), va, _CMP_EQ_OQ);
                if (hit) {
                    peak = xc[i + __builtin_ctz((unsigned)hit)];
                    break;
                }
            }
        }
        float inv = amax > 0 ? -128.0f / peak : 0.0f, scale = amax > 0 ? 1.0f / inv : 0.0f;
        const __m512 vinv = _mm512_set1_ps(inv);
        for (int b = 0; b < 8; b++) {
            int sum = 0;
            for (int h = 0; h < 32; h += 16) {
                __m512 shifted = _mm512_add_ps(_mm512_mul_ps(vinv, _mm512_loadu_ps(xc + 32 * b + h)), magic);
                __m512i v = _mm512_sub_epi32(_mm512_and_si512(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x007FFFFF)),
                                             _mm512_set1_epi32(0x00400000));
                v = _mm512_min_epi32(v, _mm512_set1_epi32(127));
                _mm_storeu_si128((__m128i *)(q + c + 32 * b + h), _mm512_cvtepi32_epi8(v));
                sum += _mm512_reduce_add_epi32(v);
            }
            d[c / 32 + b] = scale;
            s[c / 32 + b] = scale * (float)sum;
        }
    }
}

/// qk_attend_f16_avx2 with 512-bit vectors (head_dim a multiple of 16): half the conversions and FMAs per
/// key, and the exponentials of the softmax vectorized. Same roundings: q and the probabilities to f16.
QK_TGT void qk_attend_f16_avx512(const float *q, const uint16_t *keys, const uint16_t *values, size_t stride,
                                 int head_dim, int visible, float scale, float *scores, float *out) {
    enum { MAXV = 512 / 16 };
    __m512 qv[MAXV], acc[MAXV];
    int nv = head_dim / 16;
    for (int i = 0; i < nv; i++) {
        qv[i] = _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_loadu_ps(q + 16 * i), _MM_FROUND_TO_NEAREST_INT));
        acc[i] = _mm512_setzero_ps();
    }
#define QK_KEY(p, i) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((p) + 16 * (i))))
    int j = 0;
    for (; j + 4 <= visible; j += 4) {
        const uint16_t *k0 = keys + (size_t)j * stride, *k1 = k0 + stride, *k2 = k1 + stride, *k3 = k2 + stride;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        for (int i = 0; i < nv; i++) {
            s0 = _mm512_fmadd_ps(qv[i], QK_KEY(k0, i), s0);
            s1 = _mm512_fmadd_ps(qv[i], QK_KEY(k1, i), s1);
            s2 = _mm512_fmadd_ps(qv[i], QK_KEY(k2, i), s2);
            s3 = _mm512_fmadd_ps(qv[i], QK_KEY(k3, i), s3);
        }
        // Fold each to 8 lanes, then the 256-bit transpose-reduce gives the four totals.
#define QK_FOLD(v) _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)))
        __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(QK_FOLD(s0), QK_FOLD(s1)), _mm256_hadd_ps(QK_FOLD(s2), QK_FOLD(s3)));
#undef QK_FOLD
        __m128 totals = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        _mm_storeu_ps(scores + j, _mm_mul_ps(totals, _mm_set1_ps(scale)));
    }
    for (; j < visible; j++) {
        const uint16_t *k = keys + (size_t)j * stride;
        __m512 sum = _mm512_setzero_ps();
        for (int i = 0; i < nv; i++) sum = _mm512_fmadd_ps(qv[i], QK_KEY(k, i), sum);
        scores[j] = _mm512_reduce_add_ps(sum) * scale;
    }
    __m512 mx16 = _mm512_set1_ps(-INFINITY);
    for (j = 0; j + 16 <= visible; j += 16) mx16 = _mm512_max_ps(mx16, _mm512_loadu_ps(scores + j));
    float mx = _mm512_reduce_max_ps(mx16);
    for (; j < visible; j++) mx = scores[j] > mx ? scores[j] : mx;
    __m512 total16 = _mm512_setzero_ps(), vmx = _mm512_set1_ps(mx);
    for (j = 0; j < visible; j += 16) {
        __mmask16 m = visible - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (visible - j)) - 1);
        __m512 e = qk_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, scores + j), vmx));
        e = _mm512_maskz_mov_ps(m, e);
        _mm512_mask_storeu_ps(scores + j, m, e);
        total16 = _mm512_add_ps(total16, e);
    }
    float inv = 1.0f / _mm512_reduce_add_ps(total16);
    for (j = 0; j < visible; j++) {
        const uint16_t *v = values + (size_t)j * stride;
        __m512 pv = _mm512_set1_ps(_cvtsh_ss(_cvtss_sh(scores[j] * inv, _MM_FROUND_TO_NEAREST_INT)));
        for (int i = 0; i < nv; i++) acc[i] = _mm512_fmadd_ps(pv, QK_KEY(v, i), acc[i]);
    }
#undef QK_KEY
    for (int i = 0; i < nv; i++) _mm512_storeu_ps(out + 16 * i, acc[i]);
}

/// Prefill attention for the query heads that share one KV head: lanes are (token, head) query rows, up to
/// 16 of them, so every key and value is converted from f16 once for all of them (the one-query kernel
/// converts it once per query head), and the softmax runs across keys lane by lane.
///
/// Bit for bit the result of qk_attend_f16_avx512 on each row: a prompt's logits must not depend on which
/// kernel ran it (the fixture tests sit close to their tolerance, and a cached prefix must reproduce a cold
/// run), so every sum keeps that kernel's order. Its dot of q and a key is 16 lane sums (an FMA chain over
/// the head_dim/16 vectors) folded pairwise: keys in full groups of four as ((f0+f1)+(f2+f3)) +
/// ((f4+f5)+(f6+f7)) with f_m = lane m + lane m+8, the last visible%4 keys as a horizontal reduction,
/// ((f0+f4)+(f2+f6)) + ((f1+f5)+(f3+f7)); its softmax total is 16 running sums over keys j = lane mod 16,
/// reduced the second way. Here each of those partial sums is a vector over the rows.
/// head_dim a multiple of 16, at most 256.
QK_TGT void qk_attend_group_f16_avx512(const float *q, size_t q_stride, const uint16_t *keys, const uint16_t *values,
                                       size_t kv_stride, int head_dim, int group, int ntok, int first_visible,
                                       float scale, float *scratch, float *out, size_t out_stride) {
    enum { LANES = 16, MAXD = 256 };
    const int per = LANES / group, nv = head_dim / 16;  // tokens per sweep, vectors per head
    for (int t0 = 0; t0 < ntok; t0 += per) {
        const int nt = ntok - t0 < per ? ntok - t0 : per, rows = nt * group;
        const int visible = first_visible + t0 + nt - 1;  // keys the last token of the sweep sees
        // qt[d] = dimension d of every row's query, rounded to f16; unused lanes stay 0.
        __attribute__((aligned(64))) float qt[MAXD][LANES];
        __attribute__((aligned(64))) int32_t seen[LANES], tail[LANES];  // keys each lane sees; its last partial four
        memset(qt, 0, sizeof(float) * LANES * (size_t)head_dim);
        for (int r = 0; r < LANES; r++) seen[r] = visible;
        for (int r = 0; r < rows; r++) {
            const float *qr = q + (size_t)(t0 + r / group) * q_stride + (size_t)(r % group) * head_dim;
            for (int d = 0; d < head_dim; d++) qt[d][r] = _cvtsh_ss(_cvtss_sh(qr[d], _MM_FROUND_TO_NEAREST_INT));
            seen[r] = first_visible + t0 + r / group;
        }
        for (int r = 0; r < LANES; r++) tail[r] = seen[r] & ~3;
        int first_tail = visible;
        for (int r = 0; r < LANES; r++) first_tail = tail[r] < first_tail ? tail[r] : first_tail;
        const __m512i vseen = _mm512_load_si512((const void *)seen), vtail = _mm512_load_si512((const void *)tail);
        const __m512 vscale = _mm512_set1_ps(scale);
        // Scores: scratch[j * 16 + lane]; keys a lane does not see get -inf.
        __m512 mx = _mm512_set1_ps(-INFINITY);
        // Keys and values are converted 16 at a time ahead of their use: a broadcast load right after the
        // store that wrote it waits for the store, which cost 14 % here.
        __attribute__((aligned(64))) float kfb[16][MAXD];
        for (int j = 0; j < visible; j++) {
            if (j % 16 == 0)
                for (int u = 0; u < 16 && j + u < visible; u++)
                    for (int i = 0; i < nv; i++)
                        _mm512_store_ps(kfb[u] + 16 * i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(keys + (size_t)(j + u) * kv_stride + 16 * i))));
            const float *kf = kfb[j % 16];
            __m512 part[16];
            for (int l = 0; l < 16; l++) part[l] = _mm512_mul_ps(_mm512_load_ps(qt[l]), _mm512_set1_ps(kf[l]));
            for (int i = 1; i < nv; i++)
                for (int l = 0; l < 16; l++)
                    part[l] = _mm512_fmadd_ps(_mm512_load_ps(qt[16 * i + l]), _mm512_set1_ps(kf[16 * i + l]), part[l]);
            __m512 f[8];
            for (int m = 0; m < 8; m++) f[m] = _mm512_add_ps(part[m], part[m + 8]);
            __m512 dot = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(f[0], f[1]), _mm512_add_ps(f[2], f[3])),
                                       _mm512_add_ps(_mm512_add_ps(f[4], f[5]), _mm512_add_ps(f[6], f[7])));
            if (j >= first_tail) {
                __m512 reduced = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(f[0], f[4]), _mm512_add_ps(f[2], f[6])),
                                               _mm512_add_ps(_mm512_add_ps(f[1], f[5]), _mm512_add_ps(f[3], f[7])));
                dot = _mm512_mask_mov_ps(dot, _mm512_cmp_epi32_mask(_mm512_set1_epi32(j), vtail, _MM_CMPINT_NLT), reduced);
            }
            __mmask16 sees = _mm512_cmp_epi32_mask(_mm512_set1_epi32(j), vseen, _MM_CMPINT_LT);
            __m512 v = _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), sees, _mm512_mul_ps(dot, vscale));
            mx = _mm512_max_ps(mx, v);
            _mm512_storeu_ps(scratch + (size_t)j * LANES, v);
        }
        // Softmax down each lane; unseen keys give e = 0, which adds nothing to any sum below.
        __m512 total[16];
        for (int l = 0; l < 16; l++) total[l] = _mm512_setzero_ps();
        for (int j = 0; j < visible; j++) {
            __m512 e = qk_exp512(_mm512_sub_ps(_mm512_loadu_ps(scratch + (size_t)j * LANES), mx));
            _mm512_storeu_ps(scratch + (size_t)j * LANES, e);
            total[j % 16] = _mm512_add_ps(total[j % 16], e);
        }
        for (int m = 0; m < 8; m++) total[m] = _mm512_add_ps(total[m], total[m + 8]);
        const __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(total[0], total[4]), _mm512_add_ps(total[2], total[6])),
                                         _mm512_add_ps(_mm512_add_ps(total[1], total[5]), _mm512_add_ps(total[3], total[7])));
        const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), sum);
        for (int j = 0; j < visible; j++) {
            __m512 pr = _mm512_mul_ps(_mm512_loadu_ps(scratch + (size_t)j * LANES), inv);
            _mm512_storeu_ps(scratch + (size_t)j * LANES, _mm512_cvtph_ps(_mm512_cvtps_ph(pr, _MM_FROUND_TO_NEAREST_INT)));
        }
        // out[row][d] = sum_j p[j][row] * v[j][d], 16 dimensions at a time: one accumulator per dimension.
        for (int d0 = 0; d0 < head_dim; d0 += 16) {
            __m512 acc[16];
            for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
            __attribute__((aligned(64))) float vfb[16][16];
            for (int j = 0; j < visible; j++) {
                if (j % 16 == 0)
                    for (int u = 0; u < 16 && j + u < visible; u++)
                        _mm512_store_ps(vfb[u], _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(values + (size_t)(j + u) * kv_stride + d0))));
                const float *vf = vfb[j % 16];
                __m512 pj = _mm512_loadu_ps(scratch + (size_t)j * LANES);
                for (int i = 0; i < 16; i++) acc[i] = _mm512_fmadd_ps(pj, _mm512_set1_ps(vf[i]), acc[i]);
            }
            __attribute__((aligned(64))) float o[16][LANES];
            for (int i = 0; i < 16; i++) _mm512_store_ps(o[i], acc[i]);
            for (int r = 0; r < rows; r++) {
                float *orow = out + (size_t)(t0 + r / group) * out_stride + (size_t)(r % group) * head_dim + d0;
                for (int i = 0; i < 16; i++) orow[i] = o[i][r];
            }
        }
    }
}

#undef QK_TILE
#undef QK_SFX
#undef QK_TGT
#undef QK_DPBUSD
#undef QK_EXPAND_BITS
#undef QK_SIGNED_DOT
#undef QK_SIGNED_DOT_BIAS

// ---- AVX2: vpmaddubsw (u8*s8 pairs to saturating i16) then vpmaddwd by ones. Every unsigned operand
// here is below 64, so the i16 pair sums cannot saturate. ----
#define QK_SFX(name) name##_avx2
#define QK_TGT __attribute__((target("avx2,fma,f16c")))
#define QK_DPBUSD(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1))
static inline QK_TGT __m256i qk_expand_bits_avx2(uint32_t bits) {
    const __m256i shuffle = _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL,
                                              0x0101010101010101LL, 0x0000000000000000LL);
    const __m256i mask = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), shuffle);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, mask), mask);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}
#define QK_EXPAND_BITS(bits) qk_expand_bits_avx2(bits)
// |w| * sign(a, w): both operands stay within vpmaddubsw's range for int8 weights.
#define QK_SIGNED_DOT(w, a) QK_DPBUSD(_mm256_sign_epi8((w), (w)), _mm256_sign_epi8((a), (w)))
#define QK_SIGNED_DOT_BIAS 0.0f
#define QK_TILE 4  // 16 vector registers
#include "quant_simd.inc"
#include "quant_gemm256.inc"

/// Prefill through the unpacked-slice kernel where the format allows; everything else runs the block loop.
QK_TGT void qk_matmul_avx2_prefill(int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
                                   const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
                                   float *out, size_t out_stride) {
    if (ntok > 1 && qk_gemm256_fits(type, n) && qk_gemm_avx2(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ntok, out, out_stride))
        return;
    qk_matmul_avx2(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ax, ntok, out, out_stride);
}

/// gate = silu(gate) * up, eight at a time (simd_exp256 clamps, so very negative gates give silu ≈ 0).
QK_TGT void qk_swiglu_avx2(float *gate, const float *up, int n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, simd_exp256(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    if (i < n) qk_swiglu_scalar(gate + i, up + i, n - i);
}

QK_TGT float qk_dot_f32_avx2(const float *a, const float *b, int n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    float sum = simd_sum256(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

QK_TGT void qk_axpy_f32_avx2(float *y, float alpha, const float *x, int n) {
    __m256 va = _mm256_set1_ps(alpha);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += alpha * x[i];
}

QK_TGT void qk_f32_to_f16_avx2(const float *x, uint16_t *out, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) out[i] = qk_float_to_half(x[i]);
}

/// Requires head_dim to be a multiple of 8 (every supported model's is 64 or 128); others go scalar.
QK_TGT void qk_attend_f16_avx2(const float *q, const uint16_t *keys, const uint16_t *values, size_t stride,
                               int head_dim, int visible, float scale, float *scores, float *out) {
    enum { MAXV = 512 / 8 };
    __m256 qv[MAXV], acc[MAXV];
    int nv = head_dim / 8;
    for (int i = 0; i < nv; i++) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(q + 8 * i), _MM_FROUND_TO_NEAREST_INT);
        qv[i] = _mm256_cvtph_ps(h);
        acc[i] = _mm256_setzero_ps();
    }
    float mx = -INFINITY;
    int j = 0;
    // Four keys at a time: independent sums hide the FMA latency, and one reduction serves all four.
    for (; j + 4 <= visible; j += 4) {
        const uint16_t *k0 = keys + (size_t)j * stride, *k1 = k0 + stride, *k2 = k1 + stride, *k3 = k2 + stride;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        for (int i = 0; i < nv; i++) {
            s0 = _mm256_fmadd_ps(qv[i], _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k0 + 8 * i))), s0);
            s1 = _mm256_fmadd_ps(qv[i], _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k1 + 8 * i))), s1);
            s2 = _mm256_fmadd_ps(qv[i], _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k2 + 8 * i))), s2);
            s3 = _mm256_fmadd_ps(qv[i], _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k3 + 8 * i))), s3);
        }
        // Transpose-reduce: lane sums of s0..s3 into one vector of four totals.
        __m256 h01 = _mm256_hadd_ps(s0, s1), h23 = _mm256_hadd_ps(s2, s3);
        __m256 h = _mm256_hadd_ps(h01, h23);
        __m128 totals = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        totals = _mm_mul_ps(totals, _mm_set1_ps(scale));
        _mm_storeu_ps(scores + j, totals);
        for (int k = 0; k < 4; k++) mx = scores[j + k] > mx ? scores[j + k] : mx;
    }
    for (; j < visible; j++) {
        const uint16_t *k = keys + (size_t)j * stride;
        __m256 sum = _mm256_setzero_ps();
        for (int i = 0; i < nv; i++)
            sum = _mm256_fmadd_ps(qv[i], _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + 8 * i))), sum);
        float s = simd_sum256(sum) * scale;
        scores[j] = s;
        mx = s > mx ? s : mx;
    }
    __m256 total8 = _mm256_setzero_ps();
    const __m256 vmx = _mm256_set1_ps(mx);
    for (j = 0; j + 8 <= visible; j += 8) {
        __m256 e = simd_exp256(_mm256_sub_ps(_mm256_loadu_ps(scores + j), vmx));
        _mm256_storeu_ps(scores + j, e);
        total8 = _mm256_add_ps(total8, e);
    }
    float total = simd_sum256(total8);
    for (; j < visible; j++) {
        float e = expf(scores[j] - mx);
        scores[j] = e;
        total += e;
    }
    float inv = 1.0f / total;
    for (j = 0; j < visible; j++) {
        const uint16_t *v = values + (size_t)j * stride;
        float p = _cvtsh_ss(_cvtss_sh(scores[j] * inv, _MM_FROUND_TO_NEAREST_INT));
        __m256 pv = _mm256_set1_ps(p);
        for (int i = 0; i < nv; i++)
            acc[i] = _mm256_fmadd_ps(pv, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + 8 * i))), acc[i]);
    }
    for (int i = 0; i < nv; i++) _mm256_storeu_ps(out + 8 * i, acc[i]);
}
#endif

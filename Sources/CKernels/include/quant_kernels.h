// Hot numeric kernels for the built-in LLM engine: dot products that read quantized ggml blocks in place,
// activation quantization, the small f32 helpers of a transformer layer, and a persistent thread pool.
//
// Every function picks an AVX-512 VNNI, AVX2 or portable scalar body at run time, so one binary runs on
// any x86-64 and the scalar body compiles everywhere else.
#ifndef QUANT_KERNELS_H
#define QUANT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// ggml type numbers (the subset the engine runs).
enum {
    QK_F32 = 0, QK_F16 = 1, QK_Q4_0 = 2, QK_Q4_1 = 3, QK_Q5_0 = 6, QK_Q5_1 = 7, QK_Q8_0 = 8,
    QK_Q4_K = 12, QK_Q5_K = 13, QK_Q6_K = 14, QK_BF16 = 30
};

/// Elements per activation block: activations are quantized to int8 in blocks of 32 with one f32 scale.
#define QK_ACT_BLOCK 32

/// 1 when `type` is one the kernels can read.
int qk_type_supported(int type);
/// 1 when the type's dot product uses the int8 activations (quantized types), 0 when it uses f32 ones.
int qk_type_uses_int8(int type);

/// Quantizes `n` floats (n a multiple of 32) to int8 blocks like llama.cpp's Q8_0: `q[n]`, per-block scale
/// `d[n/32]` (rounded to f16 precision, as llama.cpp stores it), and
/// `s[n/32]` = d * (sum of the block's int8 values), which the kernels use for the weights' offsets/mins.
void qk_quantize_act(const float *x, int n, int8_t *q, float *d, float *s);

/// The same output layout, quantized the way llama.cpp quantizes activations for K-quant weights (Q8_K):
/// one scale per 256 values (repeated in d and used for s of its eight blocks), chosen so the value of
/// largest magnitude becomes -128. n not a multiple of 256 falls back to qk_quantize_act.
void qk_quantize_act_k(const float *x, int n, int8_t *q, float *d, float *s);

/// Expands row `row` of a weight matrix (rows of `n` elements, `row_bytes` bytes each) to f32.
void qk_dequantize_row(int type, const void *row, int n, float *out);

/// Dot product of one weight row with one activation row.
float qk_dot(int type, const void *row, int n, const int8_t *aq, const float *ad, const float *as, const float *ax);

/// out[t * out_stride + r] = dot(weight row r, activation t) for r in [row_begin, row_end), t in [0, ntok).
/// Activation t lives at aq + t*n, ad/as + t*(n/32), ax + t*n (ax may be NULL for quantized types, and
/// aq/ad/as may be NULL for float types).
void qk_matmul(int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
               const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
               float *out, size_t out_stride);

/// Kernel bodies, for tests that check each against the others.
/// QK_PATH_VNNI512: the 512-bit prefill kernel (types and lengths it does not take run QK_PATH_VNNI).
/// QK_PATH_AVX2 runs the AVX2 prefill kernel for several tokens where the format allows, as qk_matmul does.
enum { QK_PATH_SCALAR = 0, QK_PATH_AVX2 = 1, QK_PATH_VNNI = 2, QK_PATH_VNNI512 = 3 };
/// `qk_matmul` with a forced body; returns 0 (and computes nothing) when this CPU cannot run it.
int qk_matmul_using(int path, int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
                    const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
                    float *out, size_t out_stride);

/// `qk_quantize_act_k` with a forced body (QK_PATH_SCALAR, or QK_PATH_VNNI for the AVX-512 one); returns 0
/// (and computes nothing) when this CPU cannot run it.
int qk_quantize_act_k_using(int path, const float *x, int n, int8_t *q, float *d, float *s);

// ---- f32 helpers of a transformer layer ----

/// out = x / rms(x) * weight.
void qk_rmsnorm(float *out, const float *x, const float *weight, int n, float eps);
/// sum of a[i] * b[i].
float qk_dot_f32(const float *a, const float *b, int n);
/// y += alpha * x.
void qk_axpy_f32(float *y, float alpha, const float *x, int n);
/// gate = silu(gate) * up, elementwise.
void qk_swiglu(float *gate, const float *up, int n);
/// In-place softmax; returns nothing, x sums to 1 afterwards.
void qk_softmax(float *x, int n);
/// Rotates pairs of each head: `neox` pairs (i, i + rot/2), otherwise (2i, 2i+1). cos/sin hold rot/2 values.
void qk_rope(float *x, int heads, int head_dim, int rot, const float *cosv, const float *sinv, int neox);

/// Converts n floats to f16 bits (round to nearest even).
void qk_f32_to_f16(const float *x, uint16_t *out, int n);

/// One query head attending causally over `visible` cached positions of an f16 KV cache:
/// scores = softmax(q·k_j * scale), out = sum_j scores_j v_j. Keys/values of position j start at
/// keys/values + j*stride (in elements). Like llama.cpp, q and the scores are rounded to f16 before they
/// meet the f16 cache; sums are f32. `scores` is scratch of at least `visible` floats.
void qk_attend_f16(const float *q, const uint16_t *keys, const uint16_t *values, size_t stride, int head_dim,
                   int visible, float scale, float *scores, float *out);

/// qk_attend_f16 for `ntok` consecutive tokens and the `group` query heads that share one KV head (grouped-
/// query attention), causally: token t sees `first_visible + t` positions. Query head h of token t is at
/// q + t*q_stride + h*head_dim, its output at out + t*out_stride + h*head_dim. The same results as
/// qk_attend_f16 on each row, bit for bit; each key and value is converted once for many queries, which is
/// what makes it faster in prefill.
/// `scratch` holds at least 16 * (first_visible + ntok) floats.
void qk_attend_group_f16(const float *q, size_t q_stride, const uint16_t *keys, const uint16_t *values,
                         size_t kv_stride, int head_dim, int group, int ntok, int first_visible, float scale,
                         float *scratch, float *out, size_t out_stride);

// ---- thread pool ----

typedef struct qk_pool qk_pool;
/// One chunk of a parallel step: `chunk` in [0, nchunks), `thread` in [0, threads) names the thread running it
/// (for per-thread scratch).
typedef void (*qk_task_fn)(void *ctx, int chunk, int thread);
/// Starts `nthreads - 1` workers; the caller's thread is worker 0 during `qk_pool_run`.
qk_pool *qk_pool_create(int nthreads);
void qk_pool_destroy(qk_pool *pool);
int qk_pool_threads(const qk_pool *pool);
/// Runs fn(ctx, chunk, thread) once for every chunk, spread over whichever threads are free, and returns when
/// all chunks have finished. Not reentrant; one caller thread at a time.
void qk_pool_run(qk_pool *pool, qk_task_fn fn, void *ctx, int nchunks);

#ifdef __cplusplus
}
#endif
#endif

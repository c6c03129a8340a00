#ifndef BERT_KERNELS_H
#define BERT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Compute kernels for the BERT embedder: packed GEMM with fused bias/GELU, residual + LayerNorm, and
 * per-sequence multi-head attention. Each entry point picks the widest instruction set the running CPU
 * supports (AVX-512 with BF16 dot products, AVX-512, AVX2 with FMA, or portable C), so the binary runs anywhere.
 *
 * Why C and not Swift (measured on the 2-core AVX-512 EPYC, 1024×384 · 384×1152 GEMM, same 8×32 register
 * tile and packing, GFLOP per CPU-second): Swift SIMD16<Float> at the default target 27-29 (mul+add on
 * SSE; 1.4 with addProduct, which becomes a libm fma call per lane); Swift with a module-wide
 * `-target-cpu znver4` 115-174, but then the binary traps on CPUs without AVX-512 and BF16 dot products
 * are still out of reach; this C kernel with run-time dispatch 210 (f32) and 390 (bf16). */

/* Instruction sets, widest last. */
enum {
    BERT_ISA_PORTABLE = 0,
    BERT_ISA_AVX2 = 1,
    BERT_ISA_AVX512 = 2,
    BERT_ISA_AVX512_BF16 = 3,
};

/* The widest instruction set this CPU (and OS) supports. */
int bert_best_isa(void);

/* Weights are PyTorch `Linear` matrices, w[n][k] (output rows, input columns), packed once at load into
 * panels of 32 output columns so the GEMM reads them contiguously. */
size_t bert_packed_f32_count(int n, int k);
void bert_pack_f32(const float *w, int n, int k, float *packed);
/* bf16 panels hold pairs of consecutive k per column (the layout of AVX-512 BF16 dot products);
 * values are rounded to nearest even. */
size_t bert_packed_bf16_count(int n, int k);
void bert_pack_bf16(const float *w, int n, int k, uint16_t *packed);

/* y[m][n] = x[m][k] · wᵀ + bias, then GELU (erf form) when `gelu` is non-zero. `isa` caps the instruction
 * set (pass bert_best_isa()). Accumulation is in f32. */
void bert_gemm_f32(const float *x, int m, int k, const float *packed, int n, const float *bias, float *y,
                   int gelu, int isa);
/* Same with bf16 weights; x is rounded to bf16 into `scratch`, which must hold bert_gemm_bf16_scratch_count(m, k)
 * uint16 values. Requires BERT_ISA_AVX512_BF16. */
size_t bert_gemm_bf16_scratch_count(int m, int k);
void bert_gemm_bf16(const float *x, int m, int k, const uint16_t *packed, int n, const float *bias, float *y,
                    int gelu, uint16_t *scratch);

/* Same with 13-bit integer weights and inputs (AVX2 vpmaddwd), for CPUs without BF16 dot products: weights
 * are packed once into int16 panels with one f32 scale per output column and block of 128 inputs; x is
 * quantized the same way, per row, into `scratch` (bert_gemm_i16_scratch_size(m, k) bytes).
 * Each block's products are summed exactly in 32-bit integers, blocks in f32. Requires BERT_ISA_AVX2. */
size_t bert_packed_i16_count(int n, int k);
size_t bert_packed_i16_scale_count(int n, int k);
void bert_pack_i16(const float *w, int n, int k, int16_t *packed, float *scales);
size_t bert_gemm_i16_scratch_size(int m, int k);
void bert_gemm_i16(const float *x, int m, int k, const int16_t *packed, const float *scales, int n,
                   const float *bias, float *y, int gelu, void *scratch);

/* x[r] = LayerNorm(x[r] + residual[r]) · gamma + beta for each of `rows` rows of `cols` values;
 * `residual` may be NULL. */
void bert_add_layernorm(float *x, const float *residual, const float *gamma, const float *beta, int rows,
                        int cols, float eps, int isa);

/* Self-attention of one sequence: qkv[t] holds the token's query, key and value (3 × hidden values, heads
 * contiguous inside each); out[t] receives the concatenated heads (hidden values). Every token attends to
 * every token of the same sequence, which is why batches are packed without padding. */
size_t bert_attention_scratch_count(int tokens, int head_dim);
void bert_attention(const float *qkv, int tokens, int hidden, int heads, float *out, float *scratch, int isa);

#endif

// Declarations shared between the quant_*.c files (not part of the public header).
#ifndef QUANT_INTERNAL_H
#define QUANT_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

void qk_swiglu_scalar(float *gate, const float *up, int n);
void qk_quantize_act_scalar(const float *x, int n, int8_t *q, float *d, float *s);
/// qk_quantize_act_k for n a multiple of 256.
void qk_quantize_act_k_scalar(const float *x, int n, int8_t *q, float *d, float *s);
float qk_dot_scalar(int type, const void *row, int n, const int8_t *aq, const float *ad, const float *as,
                    const float *ax);

#if defined(__x86_64__) || defined(_M_X64)
#define QK_X86 1
void qk_quantize_act_vnni(const float *x, int n, int8_t *q, float *d, float *s);
void qk_quantize_act_avx2(const float *x, int n, int8_t *q, float *d, float *s);
void qk_matmul_vnni(int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
                    const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
                    float *out, size_t out_stride);
void qk_matmul_vnni512(int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
                       const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
                       float *out, size_t out_stride);
void qk_matmul_avx2(int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
                    const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
                    float *out, size_t out_stride);
void qk_matmul_avx2_prefill(int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
                            const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
                            float *out, size_t out_stride);
float qk_dot_f32_avx2(const float *a, const float *b, int n);
void qk_axpy_f32_avx2(float *y, float alpha, const float *x, int n);
void qk_f32_to_f16_avx2(const float *x, uint16_t *out, int n);
void qk_swiglu_avx512(float *gate, const float *up, int n);
void qk_swiglu_avx2(float *gate, const float *up, int n);
void qk_quantize_act_k_avx512(const float *x, int n, int8_t *q, float *d, float *s);
void qk_attend_f16_avx512(const float *q, const uint16_t *keys, const uint16_t *values, size_t stride, int head_dim,
                          int visible, float scale, float *scores, float *out);
void qk_attend_group_f16_avx512(const float *q, size_t q_stride, const uint16_t *keys, const uint16_t *values,
                                size_t kv_stride, int head_dim, int group, int ntok, int first_visible, float scale,
                                float *scratch, float *out, size_t out_stride);
void qk_attend_f16_avx2(const float *q, const uint16_t *keys, const uint16_t *values, size_t stride, int head_dim,
                        int visible, float scale, float *scores, float *out);
#endif
#endif

// Chooses the kernel body for the CPU the program runs on.
#include "quant_kernels.h"
#include "quant_common.h"
#include "quant_internal.h"

#ifdef QK_X86
static int has_vnni(void) {
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
}
static int has_avx2(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}
#endif

int qk_type_supported(int type) {
    switch (type) {
    case QK_F32: case QK_F16: case QK_BF16: case QK_Q4_0: case QK_Q4_1: case QK_Q5_0: case QK_Q5_1:
    case QK_Q8_0: case QK_Q4_K: case QK_Q5_K: case QK_Q6_K: return 1;
    default: return 0;
    }
}

int qk_type_uses_int8(int type) { return qk_type_supported(type) && type != QK_F32 && type != QK_F16 && type != QK_BF16; }

void qk_quantize_act(const float *x, int n, int8_t *q, float *d, float *s) {
#ifdef QK_X86
    if (has_vnni()) { qk_quantize_act_vnni(x, n, q, d, s); return; }
    if (has_avx2()) { qk_quantize_act_avx2(x, n, q, d, s); return; }
#endif
    qk_quantize_act_scalar(x, n, q, d, s);
}

void qk_quantize_act_k(const float *x, int n, int8_t *q, float *d, float *s) {
    if (n % 256 != 0) {
        qk_quantize_act(x, n, q, d, s);
        return;
    }
#ifdef QK_X86
    if (has_vnni()) { qk_quantize_act_k_avx512(x, n, q, d, s); return; }
#endif
    qk_quantize_act_k_scalar(x, n, q, d, s);
}

int qk_quantize_act_k_using(int path, const float *x, int n, int8_t *q, float *d, float *s) {
    if (n % 256 != 0) return 0;
    switch (path) {
    case QK_PATH_SCALAR: qk_quantize_act_k_scalar(x, n, q, d, s); return 1;
#ifdef QK_X86
    case QK_PATH_VNNI:
        if (!has_vnni()) return 0;
        qk_quantize_act_k_avx512(x, n, q, d, s);
        return 1;
#endif
    default: return 0;
    }
}

static void matmul_scalar(int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
                          const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
                          float *out, size_t out_stride) {
    int nb = n / 32;
    for (int r = row_begin; r < row_end; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * row_bytes;
        for (int t = 0; t < ntok; t++) {
            out[(size_t)t * out_stride + r] = qk_dot_scalar(
                type, row, n, aq ? aq + (size_t)t * n : NULL, ad ? ad + (size_t)t * nb : NULL,
                as ? as + (size_t)t * nb : NULL, ax ? ax + (size_t)t * n : NULL);
        }
    }
}

int qk_matmul_using(int path, int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
                    const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
                    float *out, size_t out_stride) {
    switch (path) {
    case QK_PATH_SCALAR:
        matmul_scalar(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ax, ntok, out, out_stride);
        return 1;
#ifdef QK_X86
    case QK_PATH_AVX2:
        if (!has_avx2()) return 0;
        qk_matmul_avx2_prefill(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ax, ntok, out, out_stride);
        return 1;
    case QK_PATH_VNNI:
        if (!has_vnni()) return 0;
        qk_matmul_vnni(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ax, ntok, out, out_stride);
        return 1;
    case QK_PATH_VNNI512:
        if (!has_vnni()) return 0;
        qk_matmul_vnni512(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ax, ntok, out, out_stride);
        return 1;
#endif
    default: return 0;
    }
}

void qk_matmul(int type, const void *w, size_t row_bytes, int n, int row_begin, int row_end,
               const int8_t *aq, const float *ad, const float *as, const float *ax, int ntok,
               float *out, size_t out_stride) {
#ifdef QK_X86
    if (has_vnni()) {
        // Decode (one token) is bound by memory and tuned in the 256-bit body; prefill by arithmetic.
        if (ntok > 1) qk_matmul_vnni512(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ax, ntok, out, out_stride);
        else qk_matmul_vnni(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ax, ntok, out, out_stride);
        return;
    }
    if (has_avx2()) { qk_matmul_avx2_prefill(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ax, ntok, out, out_stride); return; }
#endif
    matmul_scalar(type, w, row_bytes, n, row_begin, row_end, aq, ad, as, ax, ntok, out, out_stride);
}

float qk_dot(int type, const void *row, int n, const int8_t *aq, const float *ad, const float *as, const float *ax) {
    float out = 0;
    qk_matmul(type, row, 0, n, 0, 1, aq, ad, as, ax, 1, &out, 1);
    return out;
}

float qk_dot_f32(const float *a, const float *b, int n) {
#ifdef QK_X86
    if (has_avx2()) return qk_dot_f32_avx2(a, b, n);
#endif
    float sum = 0;
    for (int i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

void qk_axpy_f32(float *y, float alpha, const float *x, int n) {
#ifdef QK_X86
    if (has_avx2()) { qk_axpy_f32_avx2(y, alpha, x, n); return; }
#endif
    for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

void qk_swiglu(float *gate, const float *up, int n) {
#ifdef QK_X86
    if (has_vnni()) { qk_swiglu_avx512(gate, up, n); return; }
    if (has_avx2()) { qk_swiglu_avx2(gate, up, n); return; }
#endif
    qk_swiglu_scalar(gate, up, n);
}

void qk_f32_to_f16(const float *x, uint16_t *out, int n) {
#ifdef QK_X86
    if (has_avx2()) { qk_f32_to_f16_avx2(x, out, n); return; }
#endif
    for (int i = 0; i < n; i++) out[i] = qk_float_to_half(x[i]);
}

void qk_attend_f16(const float *q, const uint16_t *keys, const uint16_t *values, size_t stride, int head_dim,
                   int visible, float scale, float *scores, float *out) {
#ifdef QK_X86
    if (has_vnni() && head_dim % 16 == 0 && head_dim <= 512) { qk_attend_f16_avx512(q, keys, values, stride, head_dim, visible, scale, scores, out); return; }
    if (has_avx2() && head_dim % 8 == 0 && head_dim <= 512) { qk_attend_f16_avx2(q, keys, values, stride, head_dim, visible, scale, scores, out); return; }
#endif
    float qh[512];
    int hd = head_dim < 512 ? head_dim : 512;
    for (int i = 0; i < hd; i++) qh[i] = qk_half_to_float(qk_float_to_half(q[i]));
    for (int j = 0; j < visible; j++) {
        const uint16_t *k = keys + (size_t)j * stride;
        float dot = 0;
        for (int i = 0; i < hd; i++) dot += qh[i] * qk_half_to_float(k[i]);
        scores[j] = dot * scale;
    }
    qk_softmax(scores, visible);
    for (int i = 0; i < hd; i++) out[i] = 0;
    for (int j = 0; j < visible; j++) {
        const uint16_t *v = values + (size_t)j * stride;
        float p = qk_half_to_float(qk_float_to_half(scores[j]));
        for (int i = 0; i < hd; i++) out[i] += p * qk_half_to_float(v[i]);
    }
}

void qk_attend_group_f16(const float *q, size_t q_stride, const uint16_t *keys, const uint16_t *values,
                         size_t kv_stride, int head_dim, int group, int ntok, int first_visible, float scale,
                         float *scratch, float *out, size_t out_stride) {
#ifdef QK_X86
    if (has_vnni() && head_dim % 16 == 0 && head_dim <= 256 && group >= 1 && group <= 16) {
        qk_attend_group_f16_avx512(q, q_stride, keys, values, kv_stride, head_dim, group, ntok, first_visible, scale,
                                   scratch, out, out_stride);
        return;
    }
#endif
    // Elsewhere the one-query kernel (AVX2 or scalar) per row: it only needs `visible` floats of scratch.
    for (int t = 0; t < ntok; t++)
        for (int h = 0; h < group; h++)
            qk_attend_f16(q + (size_t)t * q_stride + (size_t)h * head_dim, keys, values, kv_stride, head_dim,
                          first_visible + t, scale, scratch, out + (size_t)t * out_stride + (size_t)h * head_dim);
}

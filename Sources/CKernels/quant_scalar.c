// Portable scalar kernels: the readable definition of every block format, and the fallback on CPUs
// without AVX2. The SIMD bodies in quant_x86.c compute the same sums in the same integer domain.
#include "quant_kernels.h"
#include "quant_common.h"
#include "quant_internal.h"

void qk_quantize_act_scalar(const float *x, int n, int8_t *q, float *d, float *s) {
    for (int b = 0; b < n / 32; b++) {
        const float *xb = x + b * 32;
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(xb[i]));
        float scale = amax / 127.0f;
        float inv = scale > 0 ? 1.0f / scale : 0.0f;
        int sum = 0;
        for (int i = 0; i < 32; i++) {
            int v = (int)lrintf(xb[i] * inv);
            q[b * 32 + i] = (int8_t)v;
            sum += v;
        }
        d[b] = qk_half_to_float(qk_float_to_half(scale));  // llama.cpp keeps the block scale in f16
        s[b] = d[b] * (float)sum;
    }
}

void qk_quantize_act_k_scalar(const float *x, int n, int8_t *q, float *d, float *s) {
    for (int c = 0; c < n; c += 256) {
        const float *xc = x + c;
        // The element of largest magnitude maps to -128 (its sign kept), as llama.cpp's Q8_K does.
        float amax = 0, peak = 0;
        for (int i = 0; i < 256; i++) {
            float a = fabsf(xc[i]);
            if (a > amax) { amax = a; peak = xc[i]; }
        }
        float inv = amax > 0 ? -128.0f / peak : 0.0f, scale = amax > 0 ? 1.0f / inv : 0.0f;
        for (int b = 0; b < 8; b++) {
            int sum = 0;
            for (int i = 0; i < 32; i++) {
                // Round half to even through the float mantissa (vectorizes, unlike lrintf).
                float shifted = inv * xc[32 * b + i] + 12582912.0f;
                int32_t bits;
                memcpy(&bits, &shifted, 4);
                int v = (bits & 0x007FFFFF) - 0x00400000;
                v = v < 127 ? v : 127;
                q[c + 32 * b + i] = (int8_t)v;
                sum += v;
            }
            d[c / 32 + b] = scale;
            s[c / 32 + b] = scale * (float)sum;
        }
    }
}

void qk_dequantize_row(int type, const void *row, int n, float *out) {
    const uint8_t *p = (const uint8_t *)row;
    switch (type) {
    case QK_F32: memcpy(out, row, (size_t)n * 4); return;
    case QK_F16:
        for (int i = 0; i < n; i++) out[i] = qk_loadh(p + 2 * i);
        return;
    case QK_BF16:
        for (int i = 0; i < n; i++) {
            uint32_t bits = (uint32_t)qk_load16(p + 2 * i) << 16;
            memcpy(out + i, &bits, 4);
        }
        return;
    case QK_Q4_0:
        for (int b = 0; b < n / 32; b++, p += QK_BYTES_Q4_0) {
            float dd = qk_loadh(p);
            for (int j = 0; j < 16; j++) {
                out[b * 32 + j] = dd * (float)((p[2 + j] & 0xF) - 8);
                out[b * 32 + j + 16] = dd * (float)((p[2 + j] >> 4) - 8);
            }
        }
        return;
    case QK_Q4_1:
        for (int b = 0; b < n / 32; b++, p += QK_BYTES_Q4_1) {
            float dd = qk_loadh(p), mm = qk_loadh(p + 2);
            for (int j = 0; j < 16; j++) {
                out[b * 32 + j] = dd * (float)(p[4 + j] & 0xF) + mm;
                out[b * 32 + j + 16] = dd * (float)(p[4 + j] >> 4) + mm;
            }
        }
        return;
    case QK_Q5_0:
        for (int b = 0; b < n / 32; b++, p += QK_BYTES_Q5_0) {
            float dd = qk_loadh(p);
            uint32_t qh = qk_load32(p + 2);
            for (int j = 0; j < 16; j++) {
                int lo = (p[6 + j] & 0xF) | (((qh >> j) & 1) << 4);
                int hi = (p[6 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
                out[b * 32 + j] = dd * (float)(lo - 16);
                out[b * 32 + j + 16] = dd * (float)(hi - 16);
            }
        }
        return;
    case QK_Q5_1:
        for (int b = 0; b < n / 32; b++, p += QK_BYTES_Q5_1) {
            float dd = qk_loadh(p), mm = qk_loadh(p + 2);
            uint32_t qh = qk_load32(p + 4);
            for (int j = 0; j < 16; j++) {
                int lo = (p[8 + j] & 0xF) | (((qh >> j) & 1) << 4);
                int hi = (p[8 + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
                out[b * 32 + j] = dd * (float)lo + mm;
                out[b * 32 + j + 16] = dd * (float)hi + mm;
            }
        }
        return;
    case QK_Q8_0:
        for (int b = 0; b < n / 32; b++, p += QK_BYTES_Q8_0) {
            float dd = qk_loadh(p);
            for (int j = 0; j < 32; j++) out[b * 32 + j] = dd * (float)(int8_t)p[2 + j];
        }
        return;
    case QK_Q4_K:
        for (int b = 0; b < n / 256; b++, p += QK_BYTES_Q4_K) {
            float dd = qk_loadh(p), dmin = qk_loadh(p + 2);
            const uint8_t *sc = p + 4, *qs = p + 16;
            float *o = out + b * 256;
            for (int c = 0; c < 4; c++) {
                uint8_t s0, m0, s1, m1;
                qk_scale_min_k4(2 * c, sc, &s0, &m0);
                qk_scale_min_k4(2 * c + 1, sc, &s1, &m1);
                for (int l = 0; l < 32; l++) {
                    o[64 * c + l] = dd * s0 * (float)(qs[32 * c + l] & 0xF) - dmin * m0;
                    o[64 * c + 32 + l] = dd * s1 * (float)(qs[32 * c + l] >> 4) - dmin * m1;
                }
            }
        }
        return;
    case QK_Q5_K:
        for (int b = 0; b < n / 256; b++, p += QK_BYTES_Q5_K) {
            float dd = qk_loadh(p), dmin = qk_loadh(p + 2);
            const uint8_t *sc = p + 4, *qh = p + 16, *qs = p + 48;
            float *o = out + b * 256;
            for (int c = 0; c < 4; c++) {
                uint8_t s0, m0, s1, m1;
                qk_scale_min_k4(2 * c, sc, &s0, &m0);
                qk_scale_min_k4(2 * c + 1, sc, &s1, &m1);
                for (int l = 0; l < 32; l++) {
                    int lo = (qs[32 * c + l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4);
                    int hi = (qs[32 * c + l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4);
                    o[64 * c + l] = dd * s0 * (float)lo - dmin * m0;
                    o[64 * c + 32 + l] = dd * s1 * (float)hi - dmin * m1;
                }
            }
        }
        return;
    case QK_Q6_K:
        for (int b = 0; b < n / 256; b++, p += QK_BYTES_Q6_K) {
            const uint8_t *ql = p, *qh = p + 128;
            const int8_t *sc = (const int8_t *)(p + 192);
            float dd = qk_loadh(p + 208);
            float *o = out + b * 256;
            for (int half = 0; half < 2; half++) {
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    o[l] = dd * sc[is + 0] * q1;
                    o[l + 32] = dd * sc[is + 2] * q2;
                    o[l + 64] = dd * sc[is + 4] * q3;
                    o[l + 96] = dd * sc[is + 6] * q4;
                }
                ql += 64; qh += 32; sc += 8; o += 128;
            }
        }
        return;
    default:
        for (int i = 0; i < n; i++) out[i] = 0;
    }
}

/// Unpacks the 32 weights of activation block `b` of a row as small integers `q` with per-16 integer scales
/// `sc[2]`, a float multiplier `mul`, and an offset term: weight = mul * sc[i/16] * q[i] + off.
/// Returns 1 when the block has an additive offset per element (`off`), 0 otherwise.
static void unpack_block(int type, const uint8_t *row, int b, int *q, int *sc, float *mul, float *off) {
    sc[0] = sc[1] = 1;
    *off = 0;
    switch (type) {
    case QK_Q4_0: case QK_Q4_1: case QK_Q5_0: case QK_Q5_1: case QK_Q8_0: {
        const uint8_t *p = row;
        if (type == QK_Q8_0) {
            p += (size_t)b * QK_BYTES_Q8_0;
            *mul = qk_loadh(p);
            for (int j = 0; j < 32; j++) q[j] = (int8_t)p[2 + j];
        } else if (type == QK_Q4_0 || type == QK_Q4_1) {
            int sz = type == QK_Q4_0 ? QK_BYTES_Q4_0 : QK_BYTES_Q4_1;
            p += (size_t)b * sz;
            const uint8_t *qs = p + (type == QK_Q4_0 ? 2 : 4);
            int bias = type == QK_Q4_0 ? 8 : 0;
            *mul = qk_loadh(p);
            if (type == QK_Q4_1) *off = qk_loadh(p + 2);
            for (int j = 0; j < 16; j++) { q[j] = (qs[j] & 0xF) - bias; q[j + 16] = (qs[j] >> 4) - bias; }
        } else {
            int sz = type == QK_Q5_0 ? QK_BYTES_Q5_0 : QK_BYTES_Q5_1;
            p += (size_t)b * sz;
            int hoff = type == QK_Q5_0 ? 2 : 4;
            uint32_t qh = qk_load32(p + hoff);
            const uint8_t *qs = p + hoff + 4;
            int bias = type == QK_Q5_0 ? 16 : 0;
            *mul = qk_loadh(p);
            if (type == QK_Q5_1) *off = qk_loadh(p + 2);
            for (int j = 0; j < 16; j++) {
                q[j] = ((qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - bias;
                q[j + 16] = ((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - bias;
            }
        }
        return;
    }
    case QK_Q4_K: case QK_Q5_K: {
        int sz = type == QK_Q4_K ? QK_BYTES_Q4_K : QK_BYTES_Q5_K;
        const uint8_t *p = row + (size_t)(b / 8) * sz;
        int j = b % 8, c = j / 2, high = j % 2;
        uint8_t s, m;
        qk_scale_min_k4(j, p + 4, &s, &m);
        *mul = qk_loadh(p) * s;
        *off = -qk_loadh(p + 2) * m;
        const uint8_t *qs = p + (type == QK_Q4_K ? 16 : 48) + 32 * c;
        for (int l = 0; l < 32; l++) {
            int v = high ? qs[l] >> 4 : qs[l] & 0xF;
            if (type == QK_Q5_K) v |= ((p[16 + l] >> j) & 1) << 4;
            q[l] = v;
        }
        return;
    }
    case QK_Q6_K: {
        const uint8_t *p = row + (size_t)(b / 8) * QK_BYTES_Q6_K;
        int j = b % 8, half = j / 4, part = j % 4;
        const uint8_t *ql = p + 64 * half, *qh = p + 128 + 32 * half;
        const int8_t *scales = (const int8_t *)(p + 192) + 8 * half;
        *mul = qk_loadh(p + 208);
        sc[0] = scales[2 * part];
        sc[1] = scales[2 * part + 1];
        for (int l = 0; l < 32; l++) {
            int lowbits = part & 1 ? (part >= 2 ? ql[l + 32] >> 4 : ql[l + 32] & 0xF)
                                   : (part >= 2 ? ql[l] >> 4 : ql[l] & 0xF);
            q[l] = (lowbits | (((qh[l] >> (2 * part)) & 3) << 4)) - 32;
        }
        return;
    }
    }
}

float qk_dot_scalar(int type, const void *row, int n, const int8_t *aq, const float *ad, const float *as,
                    const float *ax) {
    const uint8_t *p = (const uint8_t *)row;
    if (!qk_type_uses_int8(type)) {
        float acc = 0, tmp[256];
        for (int i = 0; i < n; i += 256) {
            int len = n - i < 256 ? n - i : 256;
            size_t esz = type == QK_F32 ? 4 : 2;
            qk_dequantize_row(type, p + (size_t)i * esz, len, tmp);
            for (int k = 0; k < len; k++) acc += tmp[k] * ax[i + k];
        }
        return acc;
    }
    float acc = 0;
    int q[32], sc[2];
    for (int b = 0; b < n / 32; b++) {
        float mul, off;
        unpack_block(type, p, b, q, sc, &mul, &off);
        const int8_t *a = aq + b * 32;
        int s0 = 0, s1 = 0;
        for (int l = 0; l < 16; l++) s0 += q[l] * a[l];
        for (int l = 16; l < 32; l++) s1 += q[l] * a[l];
        acc += ad[b] * mul * (float)(sc[0] * s0 + sc[1] * s1) + off * as[b];
    }
    return acc;
}

void qk_rmsnorm(float *out, const float *x, const float *weight, int n, float eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float scale = 1.0f / sqrtf((float)(ss / n) + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * weight[i];
}

void qk_swiglu_scalar(float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void qk_softmax(float *x, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = fmaxf(mx, x[i]);
    float sum = 0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) x[i] *= inv;
}

void qk_rope(float *x, int heads, int head_dim, int rot, const float *cosv, const float *sinv, int neox) {
    for (int h = 0; h < heads; h++) {
        float *v = x + h * head_dim;
        for (int i = 0; i < rot / 2; i++) {
            int a = neox ? i : 2 * i, b = neox ? i + rot / 2 : 2 * i + 1;
            float x0 = v[a], x1 = v[b];
            v[a] = x0 * cosv[i] - x1 * sinv[i];
            v[b] = x0 * sinv[i] + x1 * cosv[i];
        }
    }
}

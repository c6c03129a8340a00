// Shared block decoding helpers for the quant_*.c files (not part of the public header).
#ifndef QUANT_COMMON_H
#define QUANT_COMMON_H
#include <stdint.h>
#include <string.h>
#include <math.h>

static inline float qk_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t mant = h & 0x3FF;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: renormalize
            int e = -1;
            do { e++; mant <<= 1; } while ((mant & 0x400) == 0);
            mant &= 0x3FF;
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// f32 to f16 bits, rounding to nearest even (what F16C's vcvtps2ph does by default).
static inline uint16_t qk_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, biased = (x >> 23) & 0xFF, mant = x & 0x7FFFFF;
    if (biased == 0xFF) return (uint16_t)(sign | 0x7C00 | (mant ? 0x200 : 0));
    int32_t exp = (int32_t)biased - 127 + 15;
    if (exp >= 31) return (uint16_t)(sign | 0x7C00);
    if (exp <= 0) {  // f16 subnormal or zero
        if (exp < -10) return (uint16_t)sign;
        mant |= 0x800000;
        int shift = 14 - exp;
        uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13), rem = mant & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;  // a carry into the exponent is correct
    return (uint16_t)half;
}

static inline uint16_t qk_load16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t qk_load32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline float qk_loadh(const uint8_t *p) { return qk_half_to_float(qk_load16(p)); }

/// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block's 12 packed scale bytes.
static inline void qk_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

enum {
    QK_BYTES_Q4_0 = 18, QK_BYTES_Q4_1 = 20, QK_BYTES_Q5_0 = 22, QK_BYTES_Q5_1 = 24, QK_BYTES_Q8_0 = 34,
    QK_BYTES_Q4_K = 144, QK_BYTES_Q5_K = 176, QK_BYTES_Q6_K = 210
};
#endif

// Int8 dot-product scan for the vector index. Brute-force search over a million 384-d vectors reads
// 384 MB per query; at that size the scan must run at memory speed, which needs the CPU's packed
// integer multiply-add instructions. Swift's generic SIMD cannot select them, so this small C file does,
// choosing per CPU at run time (the binary itself stays baseline x86-64).
#include "IndexKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

static int32_t dot_portable(const int8_t *a, const int8_t *b, size_t n) {
    int32_t total = 0;
    for (size_t i = 0; i < n; i++) total += (int32_t)a[i] * (int32_t)b[i];
    return total;
}

static void scan_portable(const int8_t *matrix, const float *scales, size_t first, size_t count, size_t dims,
                          const int8_t *query, float *out) {
    for (size_t i = 0; i < count; i++) {
        size_t row = first + i;
        out[i] = scales[row] * (float)dot_portable(matrix + row * dims, query, dims);
    }
}

#ifdef HAVE_X86
__attribute__((target("avx2")))
static void scan_avx2(const int8_t *matrix, const float *scales, size_t first, size_t count, size_t dims,
                      const int8_t *query, float *out) {
    size_t vectorized = dims & ~(size_t)15;
    for (size_t i = 0; i < count; i++) {
        size_t row = first + i;
        const int8_t *r = matrix + row * dims;
        __m256i sum = _mm256_setzero_si256();
        for (size_t d = 0; d < vectorized; d += 16) {
            __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r + d)));
            __m256i y = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(query + d)));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(x, y));
        }
        __m128i half = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        half = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0x4E));
        half = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0xB1));
        int32_t total = _mm_cvtsi128_si32(half);
        total += dot_portable(r + vectorized, query + vectorized, dims - vectorized);
        out[i] = scales[row] * (float)total;
    }
}

// VNNI multiplies unsigned by signed bytes. The query is shifted to unsigned (q + 128) and the excess
// 128 · Σ row is subtracted again: Σ (q + 128) · x = Σ q · x + 128 · Σ x. Row sums come from a second
// VNNI product with a vector of ones, in the same pass.
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void scan_vnni(const int8_t *matrix, const float *scales, size_t first, size_t count, size_t dims,
                      const int8_t *query, float *out) {
    size_t vectorized = dims & ~(size_t)63;
    uint8_t shifted[4096];
    if (dims > sizeof shifted) {
        scan_portable(matrix, scales, first, count, dims, query, out);
        return;
    }
    for (size_t d = 0; d < dims; d++) shifted[d] = (uint8_t)((int)query[d] + 128);
    const __m512i ones = _mm512_set1_epi8(1);
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    for (size_t i = 0; i < count; i++) {
        size_t row = first + i;
        const int8_t *r = matrix + row * dims;
        __m512i sum = _mm512_setzero_si512();
        __m512i rowSum = _mm512_setzero_si512();
        for (size_t d = 0; d < vectorized; d += 64) {
            __m512i x = _mm512_loadu_si512((const void *)(r + d));
            __m512i q = _mm512_loadu_si512((const void *)(shifted + d));
            sum = _mm512_dpbusd_epi32(sum, q, x);
            // Σ x via (x XOR 0x80) = x + 128 as unsigned, times signed ones: Σ x + 128·64 per block.
            rowSum = _mm512_dpbusd_epi32(rowSum, _mm512_xor_si512(x, bias), ones);
        }
        int32_t total = _mm512_reduce_add_epi32(sum);
        int32_t xsum = _mm512_reduce_add_epi32(rowSum) - (int32_t)(128 * vectorized);
        total -= 128 * xsum;
        total += dot_portable(r + vectorized, query + vectorized, dims - vectorized);
        out[i] = scales[row] * (float)total;
    }
}
#endif

typedef void (*scan_fn)(const int8_t *, const float *, size_t, size_t, size_t, const int8_t *, float *);

static scan_fn choose(const char **name) {
#ifdef HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vnni")) {
        *name = "avx512-vnni";
        return scan_vnni;
    }
    if (__builtin_cpu_supports("avx2")) {
        *name = "avx2";
        return scan_avx2;
    }
#endif
    *name = "portable";
    return scan_portable;
}

void index_scan_int8(const int8_t *matrix, const float *scales, size_t first, size_t count, size_t dims,
                     const int8_t *query, float *out) {
    const char *name;
    scan_fn fn = choose(&name);
    fn(matrix, scales, first, count, dims, query, out);
}

const char *index_scan_isa(void) {
    const char *name;
    (void)choose(&name);
    return name;
}

#ifndef INDEX_KERNELS_H
#define INDEX_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Scores rows [first, first + count) of a row-major Int8 matrix against an Int8 query:
/// out[i] = scales[first + i] * (query · row[first + i]), integer dot products accumulated exactly in 32 bits.
/// Picks AVX-512 VNNI, AVX2 or portable code at run time.
void index_scan_int8(const int8_t *matrix, const float *scales, size_t first, size_t count, size_t dims,
                     const int8_t *query, float *out);

/// Which code path `index_scan_int8` uses on this CPU: "avx512-vnni", "avx2" or "portable".
const char *index_scan_isa(void);

#endif

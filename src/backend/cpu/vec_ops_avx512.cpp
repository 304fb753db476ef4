// AVX-512 versions of the attention kernels that gain from wider registers (16 halves of a
// cached row per instruction); every other VecOps entry is the AVX2 one.
#include <immintrin.h>

#include "backend/cpu/vec_ops.h"

// GCC 12 reports the _mm512_undefined_* placeholders inside its own intrinsics as uninitialized
// once they are inlined; they are not.
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace inferd::backend::cpu {
namespace {

__m512 load_f16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

__m256 fold(__m512 a) {
  return _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
}

// The sums of the lanes of a0..a3, in lanes 0..3, reduced the same way for every row.
__m128 hsum4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  const __m256 s =
      _mm256_hadd_ps(_mm256_hadd_ps(fold(a0), fold(a1)), _mm256_hadd_ps(fold(a2), fold(a3)));
  return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

float row_tail(const float* q, const uint8_t* row, int64_t d16, int64_t d, float sum) {
  const auto* h = reinterpret_cast<const f16_t*>(row);
  for (int64_t i = d16; i < d; ++i) sum += q[i] * _cvtsh_ss(h[i]);
  return sum;
}

void scores_f16(const float* q, const uint8_t* rows, size_t stride, int64_t n, int64_t d,
                float* out) {
  const int64_t d16 = d / 16 * 16;
  const __m512 zero = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const uint8_t* r0 = rows + j * stride;
    const uint8_t* r1 = r0 + stride;
    const uint8_t* r2 = r1 + stride;
    const uint8_t* r3 = r2 + stride;
    __m512 a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (int64_t i = 0; i < d16; i += 16) {
      const __m512 qv = _mm512_loadu_ps(q + i);
      a0 = _mm512_fmadd_ps(qv, load_f16(r0 + 2 * i), a0);
      a1 = _mm512_fmadd_ps(qv, load_f16(r1 + 2 * i), a1);
      a2 = _mm512_fmadd_ps(qv, load_f16(r2 + 2 * i), a2);
      a3 = _mm512_fmadd_ps(qv, load_f16(r3 + 2 * i), a3);
    }
    alignas(16) float s[4];
    _mm_store_ps(s, hsum4(a0, a1, a2, a3));
    out[j] = row_tail(q, r0, d16, d, s[0]);
    out[j + 1] = row_tail(q, r1, d16, d, s[1]);
    out[j + 2] = row_tail(q, r2, d16, d, s[2]);
    out[j + 3] = row_tail(q, r3, d16, d, s[3]);
  }
  for (; j < n; ++j) {
    const uint8_t* r = rows + j * stride;
    __m512 a = zero;
    for (int64_t i = 0; i < d16; i += 16)
      a = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), load_f16(r + 2 * i), a);
    out[j] = row_tail(q, r, d16, d, _mm_cvtss_f32(hsum4(a, zero, zero, zero)));
  }
}

// Columns in chunks of 64 held in registers across all rows; the rest through the AVX2 kernel
// (the same fma per element and row, in the same order).
void weighted_sum_f16(const float* p, const uint8_t* rows, size_t stride, int64_t n, int64_t d,
                      float* y) {
  int64_t i0 = 0;
  for (; i0 + 64 <= d; i0 += 64) {
    __m512 acc[4];
    for (int k = 0; k < 4; ++k) acc[k] = _mm512_loadu_ps(y + i0 + 16 * k);
    const uint8_t* r = rows + 2 * i0;
    for (int64_t j = 0; j < n; ++j, r += stride) {
      const __m512 pj = _mm512_set1_ps(p[j]);
      for (int k = 0; k < 4; ++k) acc[k] = _mm512_fmadd_ps(pj, load_f16(r + 32 * k), acc[k]);
    }
    for (int k = 0; k < 4; ++k) _mm512_storeu_ps(y + i0 + 16 * k, acc[k]);
  }
  if (i0 < d) vec_ops_avx2()->weighted_sum_f16(p, rows + 2 * i0, stride, n, d - i0, y + i0);
}

}  // namespace

const VecOps* vec_ops_avx512() {
  static const VecOps table = [] {
    VecOps t = *vec_ops_avx2();
    t.scores_f16 = scores_f16;
    t.weighted_sum_f16 = weighted_sum_f16;
    return t;
  }();
  return &table;
}

}  // namespace inferd::backend::cpu

#include <immintrin.h>

#include "backend/cpu/vec_ops.h"

namespace inferd::backend::cpu {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float dot_f32_f16(const float* a, const f16_t* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    __m256 b1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 8)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), b0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), b1, acc1);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * _cvtsh_ss(b[i]);
  return sum;
}

void axpy_f16(float alpha, const f16_t* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 xv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, xv, _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += alpha * _cvtsh_ss(x[i]);
}

void f32_to_f16(const float* src, f16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}

// The 8 int8 values at q as floats.
__m256 load_q8(const int8_t* q) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q))));
}

float dot_f32_q8_0(const float* a, const BlockQ8_0* x, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK; ++b, a += kQK) {
    __m256 block = _mm256_mul_ps(_mm256_loadu_ps(a), load_q8(x[b].qs));
    block = _mm256_fmadd_ps(_mm256_loadu_ps(a + 8), load_q8(x[b].qs + 8), block);
    block = _mm256_fmadd_ps(_mm256_loadu_ps(a + 16), load_q8(x[b].qs + 16), block);
    block = _mm256_fmadd_ps(_mm256_loadu_ps(a + 24), load_q8(x[b].qs + 24), block);
    acc = _mm256_fmadd_ps(block, _mm256_set1_ps(_cvtsh_ss(x[b].d)), acc);
  }
  return hsum(acc);
}

void axpy_q8_0(float alpha, const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const __m256 scale = _mm256_set1_ps(alpha * _cvtsh_ss(x[b].d));
    for (int i = 0; i < kQK; i += 8)
      _mm256_storeu_ps(y + i, _mm256_fmadd_ps(scale, load_q8(x[b].qs + i), _mm256_loadu_ps(y + i)));
  }
}

constexpr VecOps kAvx2 = {dot_f32_f16, axpy_f16, f32_to_f16, dot_f32_q8_0, axpy_q8_0};

}  // namespace

const VecOps* vec_ops_avx2() { return &kAvx2; }

}  // namespace inferd::backend::cpu

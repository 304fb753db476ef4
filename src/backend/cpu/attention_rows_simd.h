// The attention row kernels of VecOps (scores_f16, weighted_sum_f16) written once over a SIMD
// register type. Included only by vec_ops_avx2.cpp and vec_ops_avx512.cpp, each with its own
// lane type L:
//   L::Reg, L::kWidth (floats per register), L::zero(), L::load(const float*),
//   L::load_f16(const uint8_t*) (kWidth halves widened), L::fmadd(a, b, c) = a * b + c,
//   L::set1(float), L::store(float*, Reg), L::hsum4(a0, a1, a2, a3) (the four lane sums in
//   lanes 0..3 of an __m128, each reduced the same way).
// The functions have internal linkage, so each file keeps the copy compiled with its ISA flags.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "base/half.h"

namespace inferd::backend::cpu {
namespace {  // one copy per ISA level's translation unit

// A row's score: the lanes over its first d_vec elements, then the rest one by one.
inline float score_tail(const float* q, const uint8_t* row, int64_t d_vec, int64_t d, float sum) {
  const auto* h = reinterpret_cast<const f16_t*>(row);
  for (int64_t i = d_vec; i < d; ++i) sum += q[i] * _cvtsh_ss(h[i]);
  return sum;
}

// VecOps::scores_f16: four rows per reduction; a lone row is reduced with three zero
// registers, which gives it the same sum.
template <class L>
void scores_rows(const float* q, const uint8_t* rows, size_t stride, int64_t n, int64_t d,
                 float* out) {
  const int64_t d_vec = d / L::kWidth * L::kWidth;
  const auto zero = L::zero();
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const uint8_t* r[4] = {rows + j * stride, rows + (j + 1) * stride, rows + (j + 2) * stride,
                           rows + (j + 3) * stride};
    typename L::Reg a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (int64_t i = 0; i < d_vec; i += L::kWidth) {
      const auto qv = L::load(q + i);
      a0 = L::fmadd(qv, L::load_f16(r[0] + 2 * i), a0);
      a1 = L::fmadd(qv, L::load_f16(r[1] + 2 * i), a1);
      a2 = L::fmadd(qv, L::load_f16(r[2] + 2 * i), a2);
      a3 = L::fmadd(qv, L::load_f16(r[3] + 2 * i), a3);
    }
    alignas(16) float s[4];
    _mm_store_ps(s, L::hsum4(a0, a1, a2, a3));
    for (int k = 0; k < 4; ++k) out[j + k] = score_tail(q, r[k], d_vec, d, s[k]);
  }
  for (; j < n; ++j) {
    const uint8_t* r = rows + j * stride;
    auto a = zero;
    for (int64_t i = 0; i < d_vec; i += L::kWidth)
      a = L::fmadd(L::load(q + i), L::load_f16(r + 2 * i), a);
    out[j] = score_tail(q, r, d_vec, d, _mm_cvtss_f32(L::hsum4(a, zero, zero, zero)));
  }
}

// VecOps::weighted_sum_f16 over the columns in whole chunks of 64, held in registers across all
// rows (one fma per element and row, rows in order). Returns the columns done; the caller adds
// the rest with the same fma per element.
template <class L>
int64_t weighted_sum_chunks(const float* p, const uint8_t* rows, size_t stride, int64_t n,
                            int64_t d, float* y) {
  constexpr int kRegs = 64 / L::kWidth;
  int64_t i0 = 0;
  for (; i0 + 64 <= d; i0 += 64) {
    typename L::Reg acc[kRegs];
    for (int k = 0; k < kRegs; ++k) acc[k] = L::load(y + i0 + L::kWidth * k);
    const uint8_t* r = rows + 2 * i0;
    for (int64_t j = 0; j < n; ++j, r += stride) {
      const auto pj = L::set1(p[j]);
      for (int k = 0; k < kRegs; ++k)
        acc[k] = L::fmadd(pj, L::load_f16(r + 2 * L::kWidth * k), acc[k]);
    }
    for (int k = 0; k < kRegs; ++k) L::store(y + i0 + L::kWidth * k, acc[k]);
  }
  return i0;
}

}  // namespace
}  // namespace inferd::backend::cpu

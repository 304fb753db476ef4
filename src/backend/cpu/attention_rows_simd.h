// The attention row kernels of VecOps (scores_f16, weighted_sum_f16) written once over a SIMD
// register type. Included only by vec_ops_avx2.cpp and vec_ops_avx512.cpp, each with its own
// lane type L:
//   L::Reg, L::kWidth (floats per register), L::zero(), L::load(const float*),
//   L::load_f16(const uint8_t*) (kWidth halves widened), L::fmadd(a, b, c) = a * b + c,
//   L::set1(float), L::store(float*, Reg), L::hsum4(a0, a1, a2, a3) (the four lane sums in
//   lanes 0..3 of an __m128, each reduced the same way) and, where kMaxHeads is 4,
//   L::hsum16(a, out) (out[h][x] = the lane sum of a[h][x] for 4 x 4 registers, each reduced as
//   hsum4 reduces it).
// The kernels leave prefetching to their caller, which knows where the next rows are (the
// transformer asks for each run of cached rows one run ahead).
// The functions have internal linkage, so each file keeps the copy compiled with its ISA flags.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "base/half.h"

namespace inferd::backend::cpu {
namespace {  // one copy per ISA level's translation unit

// A row's score: the lanes over its first d_vec elements, then the rest one by one.
inline float score_tail(const float* q, const uint8_t* row, int64_t d_vec, int64_t d, float sum) {
  const auto* h = reinterpret_cast<const f16_t*>(row);
  for (int64_t i = d_vec; i < d; ++i) sum += q[i] * _cvtsh_ss(h[i]);
  return sum;
}

// VecOps::scores_f16 for H heads at once: four rows per reduction; a lone row is reduced with
// three zero registers, which gives it the same sum. Each (head, row) sum takes the same steps
// as with one head.
template <class L, int H>
void scores_heads(const float* q, int64_t q_stride, const uint8_t* rows, size_t stride, int64_t n,
                  int64_t d, float* out, int64_t out_stride) {
  const int64_t d_vec = d / L::kWidth * L::kWidth;
  const auto zero = L::zero();
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const uint8_t* r[4] = {rows + j * stride, rows + (j + 1) * stride, rows + (j + 2) * stride,
                           rows + (j + 3) * stride};
    typename L::Reg a[H][4];
    for (int h = 0; h < H; ++h) a[h][0] = a[h][1] = a[h][2] = a[h][3] = zero;
    for (int64_t i = 0; i < d_vec; i += L::kWidth) {
      const typename L::Reg k[4] = {L::load_f16(r[0] + 2 * i), L::load_f16(r[1] + 2 * i),
                                    L::load_f16(r[2] + 2 * i), L::load_f16(r[3] + 2 * i)};
      for (int h = 0; h < H; ++h) {
        const auto qv = L::load(q + h * q_stride + i);
        for (int x = 0; x < 4; ++x) a[h][x] = L::fmadd(qv, k[x], a[h][x]);
      }
    }
    alignas(64) float s[H][4];
    if constexpr (H == 4) {
      L::hsum16(a, s);
    } else {
      for (int h = 0; h < H; ++h) _mm_store_ps(s[h], L::hsum4(a[h][0], a[h][1], a[h][2], a[h][3]));
    }
    for (int h = 0; h < H; ++h)
      for (int x = 0; x < 4; ++x)
        out[h * out_stride + j + x] = score_tail(q + h * q_stride, r[x], d_vec, d, s[h][x]);
  }
  for (; j < n; ++j) {
    const uint8_t* r = rows + j * stride;
    typename L::Reg a[H];
    for (int h = 0; h < H; ++h) a[h] = zero;
    for (int64_t i = 0; i < d_vec; i += L::kWidth) {
      const auto k = L::load_f16(r + 2 * i);
      for (int h = 0; h < H; ++h) a[h] = L::fmadd(L::load(q + h * q_stride + i), k, a[h]);
    }
    for (int h = 0; h < H; ++h)
      out[h * out_stride + j] = score_tail(q + h * q_stride, r, d_vec, d,
                                           _mm_cvtss_f32(L::hsum4(a[h], zero, zero, zero)));
  }
}

// VecOps::weighted_sum_f16 for H heads over the columns in whole chunks of 64, held in registers
// across all rows (one fma per element, head and row, rows in order; each row's halves are
// converted once for all heads). Returns the columns done; the caller adds the rest with the
// same fma per element.
template <class L, int H>
int64_t weighted_sum_heads(const float* p, int64_t p_stride, const uint8_t* rows, size_t stride,
                           int64_t n, int64_t d, float* y, int64_t y_stride) {
  constexpr int kRegs = 64 / L::kWidth;
  int64_t i0 = 0;
  for (; i0 + 64 <= d; i0 += 64) {
    typename L::Reg acc[H][kRegs];
    for (int h = 0; h < H; ++h)
      for (int k = 0; k < kRegs; ++k) acc[h][k] = L::load(y + h * y_stride + i0 + L::kWidth * k);
    const uint8_t* r = rows + 2 * i0;
    for (int64_t j = 0; j < n; ++j, r += stride) {
      typename L::Reg v[kRegs];
      for (int k = 0; k < kRegs; ++k) v[k] = L::load_f16(r + 2 * L::kWidth * k);
      for (int h = 0; h < H; ++h) {
        const auto pj = L::set1(p[h * p_stride + j]);
        for (int k = 0; k < kRegs; ++k) acc[h][k] = L::fmadd(pj, v[k], acc[h][k]);
      }
    }
    for (int h = 0; h < H; ++h)
      for (int k = 0; k < kRegs; ++k) L::store(y + h * y_stride + i0 + L::kWidth * k, acc[h][k]);
  }
  return i0;
}

// Runs fn(integral_constant<H>, first head) over `heads` in blocks of kMaxHeads, 2 and 1 (the
// register budget of the level sets kMaxHeads).
template <int kMaxHeads, class Fn>
void for_head_blocks(int heads, Fn&& fn) {
  int h = 0;
  if constexpr (kMaxHeads >= 4)
    for (; h + 4 <= heads; h += 4) fn(std::integral_constant<int, 4>{}, h);
  if constexpr (kMaxHeads >= 2)
    for (; h + 2 <= heads; h += 2) fn(std::integral_constant<int, 2>{}, h);
  for (; h < heads; ++h) fn(std::integral_constant<int, 1>{}, h);
}

template <class L, int kMaxHeads>
void scores_rows(const float* q, int64_t q_stride, int heads, const uint8_t* rows, size_t stride,
                 int64_t n, int64_t d, float* out, int64_t out_stride) {
  for_head_blocks<kMaxHeads>(heads, [&](auto block, int h) {
    scores_heads<L, decltype(block)::value>(q + h * q_stride, q_stride, rows, stride, n, d,
                                            out + h * out_stride, out_stride);
  });
}

// The columns done in chunks of 64 for every head (the caller adds the rest).
template <class L, int kMaxHeads>
int64_t weighted_sum_chunks(const float* p, int64_t p_stride, int heads, const uint8_t* rows,
                            size_t stride, int64_t n, int64_t d, float* y, int64_t y_stride) {
  int64_t done = 0;
  for_head_blocks<kMaxHeads>(heads, [&](auto block, int h) {
    done = weighted_sum_heads<L, decltype(block)::value>(p + h * p_stride, p_stride, rows, stride,
                                                         n, d, y + h * y_stride, y_stride);
  });
  return done;
}

}  // namespace
}  // namespace inferd::backend::cpu

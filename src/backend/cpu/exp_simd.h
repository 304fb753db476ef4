// The SIMD exp behind VecOps::exp_shifted and silu_mul, written once over a register type.
// Included only by vec_ops_avx2.cpp and vec_ops_avx512.cpp, each with its own type E:
//   E::Reg (floats), E::Int (int32 lanes), E::set1(float), E::set1i(int32_t), E::min, E::max,
//   E::mul, E::fmadd(a, b, c) = a * b + c, E::fnmadd(a, b, c) = c - a * b, E::round (to nearest
//   even), E::to_int (exact for integral values), E::half(i) (arithmetic shift right by 1),
//   E::add_i, E::sub_i, E::as_exponent(i) (i shifted into the exponent field, as floats) and
//   E::zero_below(x, low, v) (v, with 0 in the lanes where x < low). Every level runs the same
//   operations per lane, so every level gives the same bits.
// The functions have internal linkage, so each file keeps the copy compiled with its ISA flags.
#pragma once

#include <initializer_list>

namespace inferd::backend::cpu {
namespace {  // one copy per ISA level's translation unit

// exp(x) per lane: x = n ln2 + r with |r| <= ln2 / 2, exp(r) by its Taylor polynomial to degree 7
// (truncation below 2^-26 relative), scaled by 2^n through the exponent bits. Inputs below
// -87.3 give 0 (no subnormal results), above 88.7 are clamped (the result stays finite, about
// 3.3e38), NaN stays NaN (max/min return their second operand when either is NaN).
template <class E>
typename E::Reg exp_lanes(typename E::Reg x_in) {
  const auto low = E::set1(-87.3f);
  const auto x = E::min(E::set1(88.7f), E::max(low, x_in));
  const auto n = E::round(E::mul(x, E::set1(1.44269504088896341f)));
  auto r = E::fnmadd(n, E::set1(0.693145751953125f), x);    // ln2 high bits
  r = E::fnmadd(n, E::set1(1.428606765330187045e-06f), r);  // ln2 low bits
  auto p = E::set1(1.0f / 5040);
  for (float c : {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
    p = E::fmadd(p, r, E::set1(c));
  // 2^n for n in [-126, 128]: built as two factors so that n = 128 does not overflow the field.
  const auto ni = E::to_int(n);
  const auto half = E::half(ni);
  const auto bias = E::set1i(127);
  const auto s1 = E::as_exponent(E::add_i(half, bias));
  const auto s2 = E::as_exponent(E::add_i(E::sub_i(ni, half), bias));
  return E::zero_below(x_in, low, E::mul(E::mul(p, s1), s2));
}

}  // namespace
}  // namespace inferd::backend::cpu

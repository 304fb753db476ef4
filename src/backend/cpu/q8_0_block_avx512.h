// One block of 32 floats quantized as Q8_0 with AVX-512, bit-identical to the reference
// from_float (legacy_ops.cpp): the same scale and its half rounding, values scaled by
// 127 / amax, the same clamps (NaN to -127), round-to-nearest-even. Shared by the Q8_0
// quantizer (legacy_ops_avx512.cpp) and the panel activation conversion (panel_ops_avx512.cpp);
// included only by files compiled for AVX-512, its function always inlined so that no copy
// compiled for one level is linked into another.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace inferd::backend::cpu::avx512 {

struct Q8Block {
  uint16_t d;      // the half scale
  __m512i q0, q1;  // the values of elements 0-15 and 16-31, as int32 lanes
};

[[gnu::always_inline]] inline Q8Block quantize_q8_0_block(const float* src) {
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  const __m512 x0 = _mm512_loadu_ps(src), x1 = _mm512_loadu_ps(src + 16);
  // max_ps(a, b) returns b when a is NaN, so NaNs drop out as in the reference.
  const __m512 a0 = _mm512_max_ps(_mm512_and_ps(x0, abs_mask), _mm512_setzero_ps());
  const __m512 a1 = _mm512_max_ps(_mm512_and_ps(x1, abs_mask), _mm512_setzero_ps());
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(a0, a1));
  const float id = amax > 0.0f && amax - amax == 0.0f ? 127.0f / amax : 0.0f;
  const __m512 vid = _mm512_set1_ps(id);
  return {_cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT),
          _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x0, vid), lo), hi)),
          _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x1, vid), lo), hi))};
}

}  // namespace inferd::backend::cpu::avx512

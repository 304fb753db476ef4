#include <immintrin.h>

#include "backend/cpu/bandwidth_kernels.h"

// GCC 12 reports the _mm512_undefined_* placeholder inside its own extracti64x4 intrinsic as
// uninitialized once it is inlined; it is not.
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace inferd::backend::cpu::avx512 {

uint64_t read_two(const uint8_t* first, const uint8_t* second, size_t bytes) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < bytes; i += 256) {
    const auto* v = reinterpret_cast<const __m512i*>(first + i);
    const auto* w = reinterpret_cast<const __m512i*>(second + i);
    a0 = _mm512_xor_si512(a0, _mm512_load_si512(v + 0));
    a1 = _mm512_xor_si512(a1, _mm512_load_si512(v + 1));
    a2 = _mm512_xor_si512(a2, _mm512_load_si512(v + 2));
    a3 = _mm512_xor_si512(a3, _mm512_load_si512(v + 3));
    a0 = _mm512_xor_si512(a0, _mm512_load_si512(w + 0));
    a1 = _mm512_xor_si512(a1, _mm512_load_si512(w + 1));
    a2 = _mm512_xor_si512(a2, _mm512_load_si512(w + 2));
    a3 = _mm512_xor_si512(a3, _mm512_load_si512(w + 3));
  }
  const __m512i a = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
  const __m256i h = _mm256_xor_si256(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
  const __m128i q = _mm_xor_si128(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  return static_cast<uint64_t>(_mm_cvtsi128_si64(q) ^ _mm_extract_epi64(q, 1));
}

}  // namespace inferd::backend::cpu::avx512

#include <immintrin.h>

#include <initializer_list>

#include "backend/cpu/bandwidth_kernels.h"

namespace inferd::backend::cpu::avx2 {

uint64_t read_two(const uint8_t* first, const uint8_t* second, size_t bytes) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < bytes; i += 256) {
    for (const uint8_t* p : {first, second}) {
      const auto* v = reinterpret_cast<const __m256i*>(p + i);
      a0 = _mm256_xor_si256(a0, _mm256_load_si256(v + 0));
      a1 = _mm256_xor_si256(a1, _mm256_load_si256(v + 1));
      a2 = _mm256_xor_si256(a2, _mm256_load_si256(v + 2));
      a3 = _mm256_xor_si256(a3, _mm256_load_si256(v + 3));
      a0 = _mm256_xor_si256(a0, _mm256_load_si256(v + 4));
      a1 = _mm256_xor_si256(a1, _mm256_load_si256(v + 5));
      a2 = _mm256_xor_si256(a2, _mm256_load_si256(v + 6));
      a3 = _mm256_xor_si256(a3, _mm256_load_si256(v + 7));
    }
  }
  const __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  const __m128i h = _mm_xor_si128(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  return static_cast<uint64_t>(_mm_cvtsi128_si64(h) ^ _mm_extract_epi64(h, 1));
}

}  // namespace inferd::backend::cpu::avx2

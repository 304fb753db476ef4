// Unpacking of one 32-code chunk of the MLX block types of up to 6 bits (bit planes, see
// backend/mlx_affine.h) into 32 unsigned bytes in the order of Q8_0 activations, with AVX2
// instructions. Included only by the MLX kernel files *_avx2.cpp and *_avx512.cpp: the functions
// have internal linkage, so each of them keeps the copy compiled with its own ISA flags.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/mlx_affine.h"

namespace inferd::backend::cpu {
namespace {  // one copy per ISA level's translation unit

inline uint32_t mlx_u32_at(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline uint64_t mlx_u64_at(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Code e's field of the w-bit plane at p (w = 1, 2 or 4) in byte e: the plane's 4 * w bytes are
// repeated across the register and piece i of them shifted right by w * i, so that byte e holds
// byte e % (4 * w) shifted by w * (e / (4 * w)); the mask keeps the field.
template <int w>
inline __m256i mlx_plane_fields(const uint8_t* p) {
  __m256i x;
  if constexpr (w == 4) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    x = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
  } else if constexpr (w == 2) {
    x = _mm256_srlv_epi64(_mm256_set1_epi64x(static_cast<long long>(mlx_u64_at(p))),
                          _mm256_setr_epi64x(0, 2, 4, 6));
  } else {
    static_assert(w == 1);
    x = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(mlx_u32_at(p))),
                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  return _mm256_and_si256(x, _mm256_set1_epi8(static_cast<char>((1 << w) - 1)));
}

// The codes of the chunk at p (4 * kBits bytes, kBits < 8) as unsigned bytes: the low plane's
// fields ORed with the high plane's shifted into place (a code never crosses its byte).
template <int kBits>
inline __m256i mlx_chunk_codes(const uint8_t* p) {
  constexpr MlxChunkPlanes kPlanes = mlx_chunk_planes(kBits);
  static_assert(kPlanes.low_bits < 8);
  const __m256i low = mlx_plane_fields<kPlanes.low_bits>(p);
  if constexpr (kPlanes.high_bits == 0) {
    return low;
  } else {
    const __m256i high = mlx_plane_fields<kPlanes.high_bits>(p + 4 * kPlanes.low_bits);
    return _mm256_or_si256(low, _mm256_slli_epi16(high, kPlanes.low_bits));
  }
}

}  // namespace
}  // namespace inferd::backend::cpu

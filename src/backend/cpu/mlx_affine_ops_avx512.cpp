// AVX-512 gemm of the MLX affine block types: 16 weights at a time are widened from their codes,
// dequantized with one FMA (s * q + b) and multiplied into up to 4 x 4 row x token accumulators,
// so each dequantized weight vector serves every token of the tile.
#include <immintrin.h>

#include <array>
#include <cstring>
#include <utility>

#include "backend/cpu/mlx_affine_kernels.h"

// GCC 12 reports the _mm512_undefined_* placeholders inside its own reduce_add_ps as
// uninitialized once inlined; they are not.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace inferd::backend::cpu::avx512 {
namespace {

template <int kBits, int kGroup, int kRows, int kActs>
void tile(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* act, size_t act_stride,
          float* out, size_t out_stride) {
  constexpr size_t kBlockBytes = 8 + kGroup * kBits / 8;
  __m512 acc[kRows][kActs];
  for (int r = 0; r < kRows; ++r)
    for (int j = 0; j < kActs; ++j) acc[r][j] = _mm512_setzero_ps();
  const float* a[kActs];
  for (int j = 0; j < kActs; ++j) a[j] = reinterpret_cast<const float*>(act + j * act_stride);

  for (int64_t b = 0; b < n / kGroup; ++b) {
    __m512 scale[kRows], bias[kRows];
    const uint8_t* q[kRows];
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* block = w + r * w_stride + b * kBlockBytes;
      float s, m;
      std::memcpy(&s, block, 4);
      std::memcpy(&m, block + 4, 4);
      scale[r] = _mm512_set1_ps(s);
      bias[r] = _mm512_set1_ps(m);
      q[r] = block + 8;
    }
    const int64_t k0 = b * kGroup;
    for (int c = 0; c < kGroup; c += 32) {
      __m512 x_lo[kActs], x_hi[kActs];
      for (int j = 0; j < kActs; ++j) {
        x_lo[j] = _mm512_loadu_ps(a[j] + k0 + c);
        x_hi[j] = _mm512_loadu_ps(a[j] + k0 + c + 16);
      }
      for (int r = 0; r < kRows; ++r) {
        __m512i lo, hi;
        if constexpr (kBits == 8) {
          lo = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q[r] + c)));
          hi = _mm512_cvtepu8_epi32(
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(q[r] + c + 16)));
        } else {
          const __m512i v =
              _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q[r] + c / 2)));
          lo = _mm512_and_si512(v, _mm512_set1_epi32(15));
          hi = _mm512_srli_epi32(v, 4);
        }
        const __m512 w_lo = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), scale[r], bias[r]);
        const __m512 w_hi = _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), scale[r], bias[r]);
        for (int j = 0; j < kActs; ++j) {
          acc[r][j] = _mm512_fmadd_ps(w_lo, x_lo[j], acc[r][j]);
          acc[r][j] = _mm512_fmadd_ps(w_hi, x_hi[j], acc[r][j]);
        }
      }
    }
  }
  for (int j = 0; j < kActs; ++j)
    for (int r = 0; r < kRows; ++r) out[j * out_stride + r] = _mm512_reduce_add_ps(acc[r][j]);
}

using TileFn = void(int64_t, const uint8_t*, size_t, const uint8_t*, size_t, float*, size_t);

template <int kBits, int kGroup, int kRows, int... kActs>
constexpr auto row_tiles(std::integer_sequence<int, kActs...>) {
  return std::array<TileFn*, sizeof...(kActs)>{tile<kBits, kGroup, kRows, kActs + 1>...};
}

template <int kBits, int kGroup, int... kRows>
constexpr auto all_tiles(std::integer_sequence<int, kRows...>) {
  return std::array<std::array<TileFn*, kMlxMaxActs>, sizeof...(kRows)>{
      row_tiles<kBits, kGroup, kRows + 1>(std::make_integer_sequence<int, kMlxMaxActs>())...};
}

template <int kBits, int kGroup>
void gemm(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
          size_t act_stride, int num_acts, float* out, size_t out_stride) {
  static constexpr auto kTiles =
      all_tiles<kBits, kGroup>(std::make_integer_sequence<int, kMlxMaxRows>());
  kTiles[num_rows - 1][num_acts - 1](n, static_cast<const uint8_t*>(w), w_stride,
                                     static_cast<const uint8_t*>(act), act_stride, out, out_stride);
}

}  // namespace

void gemm_mlx_q4_g32(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
                     float* out, size_t os) {
  gemm<4, 32>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_mlx_q4_g64(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
                     float* out, size_t os) {
  gemm<4, 64>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_mlx_q4_g128(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
                      float* out, size_t os) {
  gemm<4, 128>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_mlx_q8_g32(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
                     float* out, size_t os) {
  gemm<8, 32>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_mlx_q8_g64(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
                     float* out, size_t os) {
  gemm<8, 64>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_mlx_q8_g128(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
                      float* out, size_t os) {
  gemm<8, 128>(n, w, ws, nr, a, as, na, out, os);
}

}  // namespace inferd::backend::cpu::avx512

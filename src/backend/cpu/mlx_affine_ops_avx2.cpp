// AVX2 gemm of the MLX affine block types: as the AVX-512 kernel, 8 weights at a time are
// widened from their codes, dequantized with one FMA (s * q + b) and multiplied into up to
// 4 x 2 row x token accumulators.
#include <immintrin.h>

#include <array>
#include <cstring>
#include <utility>

#include "backend/cpu/mlx_affine_kernels.h"

namespace inferd::backend::cpu::avx2 {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int kBits, int kGroup, int kRows, int kActs>
void tile(int64_t n, const uint8_t* w, size_t w_stride, const uint8_t* act, size_t act_stride,
          float* out, size_t out_stride) {
  constexpr size_t kBlockBytes = 8 + kGroup * kBits / 8;
  __m256 acc[kRows][kActs];
  for (int r = 0; r < kRows; ++r)
    for (int j = 0; j < kActs; ++j) acc[r][j] = _mm256_setzero_ps();
  const float* a[kActs];
  for (int j = 0; j < kActs; ++j) a[j] = reinterpret_cast<const float*>(act + j * act_stride);

  for (int64_t b = 0; b < n / kGroup; ++b) {
    const int64_t k0 = b * kGroup;
    for (int c = 0; c < kGroup; c += 32) {
      for (int h = 0; h < 16; h += 8) {
        __m256 x_lo[kActs], x_hi[kActs];
        for (int j = 0; j < kActs; ++j) {
          x_lo[j] = _mm256_loadu_ps(a[j] + k0 + c + h);
          x_hi[j] = _mm256_loadu_ps(a[j] + k0 + c + 16 + h);
        }
        for (int r = 0; r < kRows; ++r) {
          const uint8_t* block = w + r * w_stride + b * kBlockBytes;
          const __m256 scale = _mm256_broadcast_ss(reinterpret_cast<const float*>(block));
          const __m256 bias = _mm256_broadcast_ss(reinterpret_cast<const float*>(block + 4));
          const uint8_t* q = block + 8;
          __m256i lo, hi;
          if constexpr (kBits == 8) {
            lo = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + c + h)));
            hi = _mm256_cvtepu8_epi32(
                _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + c + 16 + h)));
          } else {
            const __m256i v = _mm256_cvtepu8_epi32(
                _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + c / 2 + h)));
            lo = _mm256_and_si256(v, _mm256_set1_epi32(15));
            hi = _mm256_srli_epi32(v, 4);
          }
          const __m256 w_lo = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lo), scale, bias);
          const __m256 w_hi = _mm256_fmadd_ps(_mm256_cvtepi32_ps(hi), scale, bias);
          for (int j = 0; j < kActs; ++j) {
            acc[r][j] = _mm256_fmadd_ps(w_lo, x_lo[j], acc[r][j]);
            acc[r][j] = _mm256_fmadd_ps(w_hi, x_hi[j], acc[r][j]);
          }
        }
      }
    }
  }
  for (int j = 0; j < kActs; ++j)
    for (int r = 0; r < kRows; ++r) out[j * out_stride + r] = hsum(acc[r][j]);
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

}  // namespace inferd::backend::cpu::avx2

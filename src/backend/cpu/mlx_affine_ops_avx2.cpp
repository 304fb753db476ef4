// AVX2 gemm of the MLX affine block types on Q8_0 activations, one 32-element activation block
// per step in a ymm register.
//
// Codes of up to 6 bits are expanded to bytes in the order of Q8_0 activations (each bit plane of
// a chunk by a broadcast, a variable shift and a mask, mlx_code_planes_simd.h) and multiplied with
// the int8 activations by vpmaddubsw (pair sums of at most 2 * 63 * 128 fit its 16 bits). 8-bit
// codes q would overflow its 16-bit pair sums, so they are made signed (q - 128, one bit flip) and
// multiplied as |q - 128| * (a with the sign of q - 128); the 128 * sum(a) this removes is added
// back to the int32 lanes from the activation block's lane sums. vpmaddwd gives 8 int32 lanes
// holding exact partial sums of sum(q * a); they are converted to float and accumulated with s *
// dx, and the bias term with b * (dx * lane sums of a), computed once per activation block for all
// rows of the tile. Lanes are summed only at the end of the row.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/mlx_affine_kernels.h"
#include "backend/cpu/mlx_code_planes_simd.h"
#include "backend/cpu/tile_prefetch.h"
#include "backend/cpu/unaligned_scalars.h"

namespace inferd::backend::cpu::avx2 {
namespace {

constexpr int kQK = 32;
constexpr int kQ8Bytes = 34;  // BlockQ8_0

inline __m256i load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// The activation side of one Q8_0 block, shared by all rows of the tile.
struct ActBlock {
  __m256i q;
  __m256i offset;  // 8-bit codes: 128 * (lane sums of a), int32
  __m256 dx;       // the block scale in every lane
  __m256 sums;     // dx * (lane sums of a)
};

template <int kBits>
inline ActBlock load_act(const uint8_t* p) {
  ActBlock a;
  a.q = load256(p + 2);
  a.dx = _mm256_set1_ps(half_at(p));
  const __m256i ones16 = _mm256_set1_epi16(1);
  const __m256i lanes = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), a.q), ones16);
  a.sums = _mm256_mul_ps(_mm256_cvtepi32_ps(lanes), a.dx);
  a.offset = kBits == 8 ? _mm256_slli_epi32(lanes, 7) : _mm256_setzero_si256();
  return a;
}

// The 32 codes of a weight chunk: 8-bit ones as q - 128, narrower ones as unsigned bytes.
template <int kBits>
inline __m256i load_codes(const uint8_t* p) {
  if constexpr (kBits == 8) {
    return _mm256_xor_si256(load256(p), _mm256_set1_epi8(static_cast<char>(0x80)));
  } else {
    return mlx_chunk_codes<kBits>(p);
  }
}

// int32 lanes of sum(q * a) for one block.
template <int kBits>
inline __m256i lane_dots(__m256i w, const ActBlock& a) {
  const __m256i ones16 = _mm256_set1_epi16(1);
  if constexpr (kBits == 8) {
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a.q, w));
    return _mm256_add_epi32(_mm256_madd_epi16(pairs, ones16), a.offset);
  } else {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w, a.q), ones16);
  }
}

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// R rows x T activations; rows past num_rows repeat the last row and are not stored.
template <int kBits, int kGroup, int R, int T>
void tile(int64_t n, const uint8_t* w, size_t w_stride, int num_rows, const uint8_t* act,
          size_t act_stride, float* out, size_t out_stride) {
  constexpr int kBlockBytes = 8 + kGroup * kBits / 8;
  constexpr int kBlocksPerGroup = kGroup / kQK;
  constexpr int kCodeBytes = kQK * kBits / 8;  // per 32 codes
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = w + (r < num_rows ? r : num_rows - 1) * w_stride;
  __m256 acc[R][T];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();

  const int64_t num_groups = n / kGroup;
  TilePrefetch prefetch(w, R * w_stride, num_groups * kBlocksPerGroup);
  for (int64_t g = 0; g < num_groups; ++g) {
#pragma GCC unroll 4
    for (int k = 0; k < kBlocksPerGroup; ++k) {
      prefetch.step();
      ActBlock a[T];
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t)
        a[t] = load_act<kBits>(act + t * act_stride + (g * kBlocksPerGroup + k) * kQ8Bytes);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const uint8_t* block = rows[r] + g * kBlockBytes;
        const __m256i q = load_codes<kBits>(block + 8 + k * kCodeBytes);
        const __m256 s = _mm256_set1_ps(f32_at(block));
        const __m256 b = _mm256_set1_ps(f32_at(block + 4));
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const __m256 dot = _mm256_cvtepi32_ps(lane_dots<kBits>(q, a[t]));
          acc[r][t] = _mm256_fmadd_ps(dot, _mm256_mul_ps(s, a[t].dx), acc[r][t]);
          acc[r][t] = _mm256_fmadd_ps(b, a[t].sums, acc[r][t]);
        }
      }
    }
  }
  // Unrolled with constant indices, so that acc stays in registers.
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    if (r >= num_rows) break;
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) out[t * out_stride + r] = hsum(acc[r][t]);
  }
}

}  // namespace

template <int kBits, int kGroup>
void gemm_mlx(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
              size_t act_stride, int num_acts, float* out, size_t out_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(act);
  for (int r = 0; r < num_rows; r += 4) {
    const int nr = num_rows - r < 4 ? num_rows - r : 4;
    if (num_acts == 1) {
      tile<kBits, kGroup, 4, 1>(n, wb + r * w_stride, w_stride, nr, ab, act_stride, out + r,
                                out_stride);
    } else {
      tile<kBits, kGroup, 4, 2>(n, wb + r * w_stride, w_stride, nr, ab, act_stride, out + r,
                                out_stride);
    }
  }
}

INFERD_MLX_GEMM_INSTANCES

}  // namespace inferd::backend::cpu::avx2

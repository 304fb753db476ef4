// AVX-512 VNNI gemm of the MLX affine block types on Q8_0 activations.
//
// A step takes 64 elements (two 32-element activation blocks) of every row of the tile: the two
// blocks' int8 activations fill one zmm register (block 0 in the low half), loaded once per step
// and shared by all rows, with their scales dx and the lane sums of the activations times dx.
// The weights' codes are arranged in the same order as unsigned bytes (4-bit ones: each block's
// 16 code bytes are broadcast to two 128-bit lanes and the second is shifted down a nibble), so
// one vpdpbusd gives each 32-bit lane an exact partial sum of sum(q * a) of one block (lanes 0-7
// block 0, 8-15 block 1). Lanes are converted to float and accumulated with s * dx, and the bias
// term with b * (dx * lane sums of a); with groups of 32 the two blocks of a step belong to two
// groups, whose scales and biases fill the two halves of the vectors. A last odd block is paired
// with a zero block. Lanes are summed only at the end of the row.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/mlx_affine_kernels.h"
#include "backend/cpu/tile_prefetch.h"

// GCC 12 reports the _mm512_undefined_* placeholders inside its own intrinsics (cvtepi32_ps,
// reduce_add_ps) as uninitialized once they are inlined; they are not.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace inferd::backend::cpu::avx512 {
namespace {

constexpr int kQK = 32;
constexpr int kQ8Bytes = 34;              // BlockQ8_0
constexpr __mmask16 kHighLanes = 0xff00;  // float lanes of the second block

inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline float f32_at(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

inline __m256i load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Block 0's value of a float field at p0 in lanes 0-7, block 1's at p1 in lanes 8-15.
inline __m512 pair_f32(const uint8_t* p0, const uint8_t* p1) {
  return _mm512_mask_broadcastss_ps(_mm512_set1_ps(f32_at(p0)), kHighLanes, _mm_set_ss(f32_at(p1)));
}

// The activation side of a step (two Q8_0 blocks), shared by all rows of the tile.
struct ActPair {
  __m512i q;
  __m512 dx;    // block 0's scale in lanes 0-7, block 1's in lanes 8-15
  __m512 sums;  // dx * (lane sums of a)
};

inline ActPair load_act_pair(const uint8_t* p0, const uint8_t* p1) {
  ActPair a;
  a.q = _mm512_inserti64x4(_mm512_castsi256_si512(load256(p0 + 2)), load256(p1 + 2), 1);
  a.dx = _mm512_mask_mov_ps(_mm512_set1_ps(half_at(p0)), kHighLanes, _mm512_set1_ps(half_at(p1)));
  const __m512i lanes = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(1), a.q);
  a.sums = _mm512_mul_ps(_mm512_cvtepi32_ps(lanes), a.dx);
  return a;
}

// The 64 codes of two 32-element weight blocks (code bytes at c0 and c1; kContiguous: c1 follows
// c0) as unsigned bytes in the activations' order.
template <int kBits, bool kContiguous>
inline __m512i load_codes(const uint8_t* c0, const uint8_t* c1) {
  if constexpr (kBits == 8) {
    if constexpr (kContiguous) return _mm512_loadu_si512(c0);
    return _mm512_inserti64x4(_mm512_castsi256_si512(load256(c0)), load256(c1), 1);
  } else {
    const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c0));
    const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c1));
    // 128-bit lanes x0, x0, x1, x1; lanes 1 and 3 (16-bit words 8-15, 24-31) take the high
    // nibbles, elements 16-31 of their block.
    const __m512i x = _mm512_mask_broadcast_i32x4(_mm512_broadcast_i32x4(x0), 0xff00, x1);
    const __m512i nibbles = _mm512_mask_srli_epi16(x, 0xff00ff00u, x, 4);
    return _mm512_and_si512(nibbles, _mm512_set1_epi8(0x0f));
  }
}

// Two weight blocks of a row: code bytes and per-lane scale and bias.
struct WeightPair {
  __m512i q;
  __m512 s, b;
};

// R rows x T activations over n elements. Rows past num_rows repeat the last row (their results
// are computed and dropped), so one instantiation serves every row count up to R.
template <int kBits, int kGroup, int R, int T>
void tile(int64_t n, const uint8_t* w, size_t w_stride, int num_rows, const uint8_t* act,
          size_t act_stride, float* out, size_t out_stride) {
  constexpr int kBlockBytes = 8 + kGroup * kBits / 8;
  constexpr int kCodeBytes = kQK * kBits / 8;  // per 32 codes
  // A zero weight block (scale and bias 0) and a zero activation block, the partner of a last
  // odd block (groups of 32 only).
  alignas(64) static constexpr uint8_t kZeros[8 + kQK + kQ8Bytes] = {};
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = w + (r < num_rows ? r : num_rows - 1) * w_stride;
  const uint8_t* acts[T];
  for (int t = 0; t < T; ++t) acts[t] = act + t * act_stride;

  const int64_t nb = n / kQK, num_steps = (nb + 1) / 2;
  TilePrefetch prefetch(w, R * w_stride, num_steps);
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();

  for (int64_t step = 0; step < num_steps; ++step) {
    prefetch.step();
    const int64_t k0 = 2 * step, k1 = k0 + 1;   // activation blocks
    const bool pair = kGroup > kQK || k1 < nb;  // groups of 64 and more have even counts
    ActPair a[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t)
      a[t] = load_act_pair(acts[t] + k0 * kQ8Bytes, pair ? acts[t] + k1 * kQ8Bytes : kZeros + 8);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      WeightPair wp;
      if constexpr (kGroup == kQK) {
        const uint8_t* b0 = rows[r] + k0 * kBlockBytes;
        const uint8_t* b1 = pair ? b0 + kBlockBytes : kZeros;
        wp.q = load_codes<kBits, false>(b0 + 8, b1 + 8);
        wp.s = pair_f32(b0, b1);
        wp.b = pair_f32(b0 + 4, b1 + 4);
      } else {
        // Both blocks are in the same group.
        const uint8_t* block = rows[r] + (k0 * kQK / kGroup) * kBlockBytes;
        const uint8_t* c0 = block + 8 + (k0 * kQK % kGroup) * kBits / 8;
        wp.q = load_codes<kBits, true>(c0, c0 + kCodeBytes);
        wp.s = _mm512_set1_ps(f32_at(block));
        wp.b = _mm512_set1_ps(f32_at(block + 4));
      }
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wp.q, a[t].q);
        acc[r][t] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(wp.s, a[t].dx), acc[r][t]);
        acc[r][t] = _mm512_fmadd_ps(wp.b, a[t].sums, acc[r][t]);
      }
    }
  }

  // Unrolled with constant indices, so that acc stays in registers.
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (r >= num_rows) break;
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) out[t * out_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

// Row tiles as wide as the registers allow for the number of activations.
template <int kBits, int kGroup>
void gemm(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
          size_t act_stride, int num_acts, float* out, size_t out_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(act);
  if (num_acts == 1) {
    tile<kBits, kGroup, 8, 1>(n, wb, w_stride, num_rows, ab, act_stride, out, out_stride);
    return;
  }
  for (int r = 0; r < num_rows; r += 4) {
    const int nr = num_rows - r < 4 ? num_rows - r : 4;
    const uint8_t* rw = wb + r * w_stride;
    float* o = out + r;
    if (num_acts == 2) {
      tile<kBits, kGroup, 4, 2>(n, rw, w_stride, nr, ab, act_stride, o, out_stride);
    } else {
      tile<kBits, kGroup, 4, 3>(n, rw, w_stride, nr, ab, act_stride, o, out_stride);
    }
  }
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

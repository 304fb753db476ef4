// AVX-512 VNNI gemm of the MLX affine block types on Q8_0 activations.
//
// A step takes 128 elements (four 32-element activation blocks) of every row of the tile. The
// activations of a step are arranged once, shared by all rows, into two zmm registers: `lo` holds
// elements 0-15 of block k in 128-bit lane k, `hi` elements 16-31; with them go each block's scale
// dx and dx * (sums of the activations), 4 float lanes per block. The weights' codes are brought
// into the same order as unsigned bytes: 4-bit blocks store each element's code j with code j + 16
// in one byte, so the low nibbles of 4 blocks' code bytes are `lo` and the high nibbles `hi`;
// 8-bit codes are permuted in 64-bit pieces, and so are 2, 3, 5 and 6-bit codes once each
// 32-code chunk is unpacked to bytes (mlx_code_planes_simd.h). Two vpdpbusd then give each
// 32-bit lane an exact partial sum of sum(q * a) of one block, converted to float and accumulated
// with s * dx, and the bias term with b * dx * sums; a step spans 1, 2 or 4 groups (groups of
// 128, 64, 32), whose scales and biases fill the matching lanes. A last partial step is copied
// into zero-padded buffers (zero scales and biases add nothing). Lanes are summed only at the end
// of the row.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/mlx_affine_kernels.h"
#include "backend/cpu/mlx_code_planes_simd.h"
#include "backend/cpu/tile_prefetch.h"
#include "backend/cpu/unaligned_scalars.h"

// GCC 12 warns that the _mm512_undefined_* values its own intrinsics (cvtepi32_ps, reduce_add_ps,
// permutexvar_ps) start from are uninitialized once inlined; the intrinsics overwrite them.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace inferd::backend::cpu::avx512 {
namespace {

constexpr int kQK = 32;
constexpr int kStepBlocks = 4;
constexpr int kStepElems = kStepBlocks * kQK;
constexpr int kQ8Bytes = 34;  // BlockQ8_0
constexpr int kActStepBytes = kStepBlocks * kQ8Bytes;

inline __m128i load128(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

inline __m256i load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Four values, value k in float lanes 4k..4k+3.
inline __m512 spread4(float v0, float v1, float v2, float v3) {
  const __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(_mm_setr_ps(v0, v1, v2, v3)));
}

// 16 bytes at each of p, p + stride, p + 2 stride, p + 3 stride in 128-bit lanes 0-3.
inline __m512i gather4x16(const uint8_t* p, int stride) {
  __m512i v = _mm512_castsi128_si512(load128(p));
  v = _mm512_inserti32x4(v, load128(p + stride), 1);
  v = _mm512_inserti32x4(v, load128(p + 2 * stride), 2);
  return _mm512_inserti32x4(v, load128(p + 3 * stride), 3);
}

// The activation side of a step, shared by all rows of the tile.
struct ActStep {
  __m512i lo, hi;
  __m512 dx;    // block k's scale in lanes 4k..4k+3
  __m512 sums;  // dx * (lane sums of the activations)
};

inline ActStep load_act_step(const uint8_t* p) {
  ActStep a;
  a.lo = gather4x16(p + 2, kQ8Bytes);
  a.hi = gather4x16(p + 18, kQ8Bytes);
  a.dx = spread4(half_at(p), half_at(p + kQ8Bytes), half_at(p + 2 * kQ8Bytes),
                 half_at(p + 3 * kQ8Bytes));
  const __m512i ones = _mm512_set1_epi8(1);
  const __m512i lanes =
      _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, a.lo), ones, a.hi);
  a.sums = _mm512_mul_ps(_mm512_cvtepi32_ps(lanes), a.dx);
  return a;
}

// The weight side of a step of one row: codes as unsigned bytes in the order of ActStep, and
// each lane's scale and bias.
struct WeightStep {
  __m512i lo, hi;
  __m512 s, b;
};

// The step's weights: the kStepElems / kGroup blocks from p.
template <int kBits, int kGroup>
inline WeightStep load_weight_step(const uint8_t* p) {
  constexpr int kBlockBytes = 8 + kGroup * kBits / 8;
  WeightStep w;
  // Code bytes of blocks 0-1 and 2-3 (8 bits, and narrower codes once unpacked), or of all four
  // (4 bits: x).
  __m512i x, y;
  if constexpr (kGroup == 32) {
    if constexpr (kBits == 4) {
      x = gather4x16(p + 8, kBlockBytes);
    } else if constexpr (kBits == 8) {
      x = _mm512_inserti64x4(_mm512_castsi256_si512(load256(p + 8)), load256(p + kBlockBytes + 8),
                             1);
      y = _mm512_inserti64x4(_mm512_castsi256_si512(load256(p + 2 * kBlockBytes + 8)),
                             load256(p + 3 * kBlockBytes + 8), 1);
    }
    w.s = spread4(f32_at(p), f32_at(p + kBlockBytes), f32_at(p + 2 * kBlockBytes),
                  f32_at(p + 3 * kBlockBytes));
    w.b = spread4(f32_at(p + 4), f32_at(p + kBlockBytes + 4), f32_at(p + 2 * kBlockBytes + 4),
                  f32_at(p + 3 * kBlockBytes + 4));
  } else if constexpr (kGroup == 64) {
    if constexpr (kBits == 4) {
      x = _mm512_inserti64x4(_mm512_castsi256_si512(load256(p + 8)), load256(p + kBlockBytes + 8),
                             1);
    } else if constexpr (kBits == 8) {
      x = _mm512_loadu_si512(p + 8);
      y = _mm512_loadu_si512(p + kBlockBytes + 8);
    }
    constexpr __mmask16 kSecondGroup = 0xff00;
    w.s = _mm512_mask_mov_ps(_mm512_set1_ps(f32_at(p)), kSecondGroup,
                             _mm512_set1_ps(f32_at(p + kBlockBytes)));
    w.b = _mm512_mask_mov_ps(_mm512_set1_ps(f32_at(p + 4)), kSecondGroup,
                             _mm512_set1_ps(f32_at(p + kBlockBytes + 4)));
  } else {
    if constexpr (kBits == 4 || kBits == 8) x = _mm512_loadu_si512(p + 8);
    if constexpr (kBits == 8) y = _mm512_loadu_si512(p + 72);
    w.s = _mm512_set1_ps(f32_at(p));
    w.b = _mm512_set1_ps(f32_at(p + 4));
  }
  if constexpr (kBits != 4 && kBits != 8) {
    // Bit-plane chunks unpacked to bytes: x, y then hold 32-element blocks in order as for 8 bits.
    constexpr int kChunksPerGroup = kGroup / kQK;
    auto chunk = [p](int k) __attribute__((always_inline)) {
      return mlx_chunk_codes<kBits>(p + (k / kChunksPerGroup) * kBlockBytes + 8 +
                                    (k % kChunksPerGroup) * 4 * kBits);
    };
    x = _mm512_inserti64x4(_mm512_castsi256_si512(chunk(0)), chunk(1), 1);
    y = _mm512_inserti64x4(_mm512_castsi256_si512(chunk(2)), chunk(3), 1);
  }
  if constexpr (kBits == 4) {
    const __m512i nibble = _mm512_set1_epi8(0x0f);
    w.lo = _mm512_and_si512(x, nibble);
    w.hi = _mm512_and_si512(_mm512_srli_epi16(x, 4), nibble);
  } else {
    // 64-bit pieces: x = b0 lo, b0 hi, b1 lo, b1 hi (2 pieces each), y the same for b2, b3.
    const __m512i lo_idx = _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13);
    const __m512i hi_idx = _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15);
    w.lo = _mm512_permutex2var_epi64(x, lo_idx, y);
    w.hi = _mm512_permutex2var_epi64(x, hi_idx, y);
  }
  return w;
}

// R rows x T activations over n elements. Rows past num_rows repeat the last row (their results
// are computed and dropped), so one instantiation serves every row count up to R.
template <int kBits, int kGroup, int R, int T>
void tile(int64_t n, const uint8_t* w, size_t w_stride, int num_rows, const uint8_t* act,
          size_t act_stride, float* out, size_t out_stride) {
  constexpr int kBlockBytes = 8 + kGroup * kBits / 8;
  // Weight bytes of a step: whole blocks for groups of up to 128 elements.
  constexpr int kStepBytes = kStepElems / kGroup * kBlockBytes;
  static_assert(kGroup <= kStepElems);
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = w + (r < num_rows ? r : num_rows - 1) * w_stride;
  const uint8_t* acts[T];
  for (int t = 0; t < T; ++t) acts[t] = act + t * act_stride;

  const int64_t num_steps = n / kStepElems, tail_elems = n % kStepElems;
  TilePrefetch prefetch(w, R * w_stride, num_steps + (tail_elems ? 1 : 0));
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();

  // One step at byte offsets w_off (weights) and a_off (activations) from the row pointers.
  auto step = [&](const uint8_t* const* wr, size_t w_off, const uint8_t* const* ar, size_t a_off)
      __attribute__((always_inline)) {
    prefetch.step();
    ActStep a[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) a[t] = load_act_step(ar[t] + a_off);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const WeightStep ws = load_weight_step<kBits, kGroup>(wr[r] + w_off);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m512i dot = _mm512_dpbusd_epi32(
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), ws.lo, a[t].lo), ws.hi, a[t].hi);
        acc[r][t] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(ws.s, a[t].dx), acc[r][t]);
        acc[r][t] = _mm512_fmadd_ps(ws.b, a[t].sums, acc[r][t]);
      }
    }
  };
  for (int64_t i = 0; i < num_steps; ++i) step(rows, i * kStepBytes, acts, i * kActStepBytes);
  if (tail_elems) {
    alignas(64) uint8_t wbuf[R][kStepBytes] = {};
    alignas(64) uint8_t abuf[T][kActStepBytes] = {};
    const uint8_t* wp[R];
    const uint8_t* ap[T];
    for (int r = 0; r < R; ++r) {
      __builtin_memcpy(wbuf[r], rows[r] + num_steps * kStepBytes,
                       tail_elems / kGroup * kBlockBytes);
      wp[r] = wbuf[r];
    }
    for (int t = 0; t < T; ++t) {
      __builtin_memcpy(abuf[t], acts[t] + num_steps * kActStepBytes, tail_elems / kQK * kQ8Bytes);
      ap[t] = abuf[t];
    }
    step(wp, 0, ap, 0);
  }

  // Unrolled with constant indices, so that acc stays in registers.
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (r >= num_rows) break;
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) out[t * out_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

}  // namespace

// Row tiles as wide as the registers allow for the number of activations.
template <int kBits, int kGroup>
void gemm_mlx(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
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

INFERD_MLX_GEMM_INSTANCES

}  // namespace inferd::backend::cpu::avx512

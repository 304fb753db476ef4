// AVX2 kernels of the legacy quantized types, one 32-element block per step in a ymm register.
//
// 4/5-bit values are expanded to unsigned bytes (low nibbles = elements 0-15, high nibbles =
// elements 16-31, the order of Q8_0 activations) and multiplied with the int8 activations by
// vpmaddubsw; the offset of the _0 types is removed in the 16-bit sums by subtracting
// offset * (pair sums of the activations), computed once per activation block. Q8_0 weights use
// |w| * (a with w's sign). vpmaddwd then gives 8 int32 partial sums, converted to float and
// accumulated with the block scale, so lanes are only summed at the end of the row.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backend/cpu/legacy_kernels.h"
#include "backend/cpu/tile_prefetch.h"

namespace inferd::backend::cpu::avx2 {
namespace {

constexpr int kQK = 32;
constexpr int kQ8Bytes = 34;  // BlockQ8_0

// Byte offsets of one legacy weight type's fields (-1: absent) and its value offset.
struct Q4_0L {
  static constexpr int kBytes = 18, kMin = -1, kHigh = -1, kQs = 2, kOffset = 8, kBits = 4;
};
struct Q4_1L {
  static constexpr int kBytes = 20, kMin = 2, kHigh = -1, kQs = 4, kOffset = 0, kBits = 4;
};
struct Q5_0L {
  static constexpr int kBytes = 22, kMin = -1, kHigh = 2, kQs = 6, kOffset = 16, kBits = 5;
};
struct Q5_1L {
  static constexpr int kBytes = 24, kMin = 2, kHigh = 4, kQs = 8, kOffset = 0, kBits = 5;
};
struct Q8_0L {
  static constexpr int kBytes = 34, kMin = -1, kHigh = -1, kQs = 2, kOffset = 0, kBits = 8;
};

inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline __m256i load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// The activation side of a block, shared by all rows of the tile.
struct ActBlock {
  __m256i q;
  __m256i offset_sums;  // 16-bit: offset * (a[2i] + a[2i+1])
  __m256 sums;          // 32-bit lanes summing to sum(a), as float
  float d;
};

template <class L>
inline ActBlock load_act(const uint8_t* p) {
  ActBlock a;
  a.q = load256(p + 2);
  a.d = half_at(p);
  if constexpr (L::kOffset != 0)
    a.offset_sums = _mm256_maddubs_epi16(_mm256_set1_epi8(L::kOffset), a.q);
  if constexpr (L::kMin >= 0) {
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_set1_epi8(1), a.q);
    a.sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }
  return a;
}

// Weight values of a block as unsigned bytes (4/5-bit types) or raw int8 (Q8_0).
template <class L>
inline __m256i load_weights(const uint8_t* p) {
  if constexpr (L::kBits == 8) {
    return load256(p + L::kQs);
  } else {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + L::kQs));
    __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(x, 4), x), _mm256_set1_epi8(0x0f));
    if constexpr (L::kBits == 5) {
      // Byte i takes bit i of qh: spread qh byte i / 8 over bytes i, then test bit i % 8.
      uint32_t qh;
      std::memcpy(&qh, p + L::kHigh, 4);
      const __m256i spread = _mm256_shuffle_epi8(
          _mm256_set1_epi32(static_cast<int>(qh)),
          _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
      const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
      q = _mm256_or_si256(q, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
    }
    return q;
  }
}

// 16-bit pair sums of w * a for one block, offset removed.
template <class L>
inline __m256i pair_dots(__m256i w, const ActBlock& a) {
  if constexpr (L::kBits == 8) {
    return _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a.q, w));
  } else if constexpr (L::kOffset != 0) {
    return _mm256_sub_epi16(_mm256_maddubs_epi16(w, a.q), a.offset_sums);
  } else {
    return _mm256_maddubs_epi16(w, a.q);
  }
}

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// R rows x T activations; rows past num_rows repeat the last row and are not stored.
template <class L, int R, int T>
void tile(int64_t nb, const uint8_t* w, size_t w_stride, int num_rows, const uint8_t* act,
          size_t act_stride, float* out, size_t out_stride) {
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = w + (r < num_rows ? r : num_rows - 1) * w_stride;
  __m256 acc[R][T];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);

  TilePrefetch prefetch(w, R * w_stride, nb);
  for (int64_t b = 0; b < nb; ++b) {
    prefetch.step();
    ActBlock a[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) a[t] = load_act<L>(act + t * act_stride + b * kQ8Bytes);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const uint8_t* blk = rows[r] + b * L::kBytes;
      const __m256i q = load_weights<L>(blk);
      const float d = half_at(blk);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m256 dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(pair_dots<L>(q, a[t]), ones));
        acc[r][t] = _mm256_fmadd_ps(dot, _mm256_set1_ps(d * a[t].d), acc[r][t]);
        if constexpr (L::kMin >= 0)
          acc[r][t] = _mm256_fmadd_ps(_mm256_set1_ps(half_at(blk + L::kMin) * a[t].d), a[t].sums,
                                      acc[r][t]);
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

template <class L>
void gemm(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
          size_t act_stride, int num_acts, float* out, size_t out_stride) {
  const int64_t nb = n / kQK;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(act);
  for (int r = 0; r < num_rows; r += 4) {
    const int nr = num_rows - r < 4 ? num_rows - r : 4;
    if (num_acts == 1) {
      tile<L, 4, 1>(nb, wb + r * w_stride, w_stride, nr, ab, act_stride, out + r, out_stride);
    } else {
      tile<L, 4, 2>(nb, wb + r * w_stride, w_stride, nr, ab, act_stride, out + r, out_stride);
    }
  }
}

}  // namespace

void gemm_q4_0(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
               float* out, size_t os) {
  gemm<Q4_0L>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_q4_1(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
               float* out, size_t os) {
  gemm<Q4_1L>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_q5_0(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
               float* out, size_t os) {
  gemm<Q5_0L>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_q5_1(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
               float* out, size_t os) {
  gemm<Q5_1L>(n, w, ws, nr, a, as, na, out, os);
}
void gemm_q8_0(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int na,
               float* out, size_t os) {
  gemm<Q8_0L>(n, w, ws, nr, a, as, na, out, os);
}

// Bit-identical to the reference Q8_0 from_float (legacy_ops.cpp): the same scale and its half
// rounding, values scaled by 127 / amax, the same clamps (NaN to -127), round-to-nearest-even.
void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK, out += kQ8Bytes) {
    __m256 x[4], amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      x[k] = _mm256_loadu_ps(src + 8 * k);
      // max_ps(a, b) returns b when a is NaN, so NaNs drop out as in the reference.
      amax = _mm256_max_ps(_mm256_and_ps(x[k], abs_mask), amax);
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const uint16_t dh = _cvtss_sh(_mm_cvtss_f32(m) / 127.0f, _MM_FROUND_TO_NEAREST_INT);
    const float max_abs = _mm_cvtss_f32(m);
    const float id = max_abs > 0.0f && max_abs - max_abs == 0.0f ? 127.0f / max_abs : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k)
      q[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(x[k], vid), lo), hi));
    // packs interleave 128-bit lanes; the permute restores element order.
    const __m256i packed =
        _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    const __m256i ordered =
        _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    std::memcpy(out, &dh, 2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2), ordered);
  }
}

}  // namespace inferd::backend::cpu::avx2

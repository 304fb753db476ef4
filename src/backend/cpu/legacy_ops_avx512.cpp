// AVX-512 VNNI kernels of the legacy quantized types, on weights in their file layout.
//
// A step takes two consecutive blocks (64 elements) of each row in one zmm: one masked load of
// the block pair, a word permute that places each block's 16 nibble bytes twice, a per-lane
// shift that turns the copies into the low and high nibbles (elements 0-15 and 16-31 in order,
// the order of Q8_0 activations), and vpdpbusd of these unsigned values with the int8
// activations. The offset of the _0 types (q - 8, q - 16; Q8_0 is shifted to unsigned by
// flipping the sign bit: q + 128) is folded into the accumulator's starting value
// -offset * sum(a), computed once per activation and shared by every row of the tile. Each
// 32-bit lane then holds a partial dot product of one block, which is converted to float and
// accumulated with that block's scale d * da per lane, so no horizontal sum happens before the
// end of the row. Tail blocks (an odd count) use masked loads that never touch memory past the
// block.
#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/legacy_kernels.h"
#include "backend/cpu/tile_prefetch.h"

// GCC 12 reports the _mm512_undefined_* placeholders inside its own intrinsics (cvtph_ps,
// cvtepi32_ps, reduce_add_ps) as uninitialized once they are inlined; they are not.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace inferd::backend::cpu::avx512 {
namespace {

constexpr int kQK = 32;
constexpr int kQ8Bytes = 34;  // BlockQ8_0

// Layout of one legacy weight type, in 16-bit words from the start of a block (every field of
// these blocks is 2-byte aligned).
struct Q4_0L {
  static constexpr int kWords = 9, kScale = 0, kMin = -1, kHigh = -1, kQs = 1, kOffset = 8;
};
struct Q4_1L {
  static constexpr int kWords = 10, kScale = 0, kMin = 1, kHigh = -1, kQs = 2, kOffset = 0;
};
struct Q5_0L {
  static constexpr int kWords = 11, kScale = 0, kMin = -1, kHigh = 1, kQs = 3, kOffset = 16;
};
struct Q5_1L {
  static constexpr int kWords = 12, kScale = 0, kMin = 1, kHigh = 2, kQs = 4, kOffset = 0;
};
struct Q8_0L {
  static constexpr int kWords = 17, kScale = 0, kMin = -1, kHigh = -1, kQs = 1, kOffset = 128;
};

// Index vectors for vpermw / vpermt2w, built once.
struct Indices {
  __m512i nibbles;  // [qs0, qs0, qs1, qs1] as 128-bit lanes
  __m512i scale;    // low 256 bits: d0 x 8, d1 x 8 (words)
  __m512i min;      // low 256 bits: m0 x 8, m1 x 8
  __m512i high;     // low 64 bits: qh0, qh1
};

template <class L>
Indices make_indices() {
  alignas(64) uint16_t nib[32], sc[32] = {}, mn[32] = {}, hi[32] = {};
  for (int k = 0; k < 8; ++k) {
    nib[k] = nib[8 + k] = static_cast<uint16_t>(L::kQs + k);
    nib[16 + k] = nib[24 + k] = static_cast<uint16_t>(L::kWords + L::kQs + k);
    sc[k] = static_cast<uint16_t>(L::kScale);
    sc[8 + k] = static_cast<uint16_t>(L::kWords + L::kScale);
    if (L::kMin >= 0) {
      mn[k] = static_cast<uint16_t>(L::kMin);
      mn[8 + k] = static_cast<uint16_t>(L::kWords + L::kMin);
    }
  }
  if (L::kHigh >= 0) {
    hi[0] = L::kHigh;
    hi[1] = L::kHigh + 1;
    hi[2] = L::kWords + L::kHigh;
    hi[3] = L::kWords + L::kHigh + 1;
  }
  return {_mm512_load_si512(nib), _mm512_load_si512(sc), _mm512_load_si512(mn),
          _mm512_load_si512(hi)};
}

// Q8_0 pairs are 68 bytes: words 0-31 come from a load at the pair, the rest from a load
// 4 bytes in (index 32 + k is word k of that second load, i.e. word k + 2 of the pair).
struct Q8Indices {
  __m512i values;  // qs0 (words 1-16), qs1 (words 18-33)
  __m512i scale;   // d0 x 8, d1 x 8
};

Q8Indices make_q8_indices() {
  alignas(64) uint16_t v[32], sc[32] = {};
  for (int k = 0; k < 16; ++k) {
    v[k] = static_cast<uint16_t>(1 + k);
    v[16 + k] = static_cast<uint16_t>(32 + 16 + k);  // word 18 + k of the pair
  }
  for (int k = 0; k < 8; ++k) {
    sc[k] = 0;
    sc[8 + k] = 17;
  }
  return {_mm512_load_si512(v), _mm512_load_si512(sc)};
}

const Q8Indices& q8_indices() {
  static const Q8Indices idx = make_q8_indices();
  return idx;
}

template <class L>
const Indices& indices() {
  static const Indices idx = make_indices<L>();
  return idx;
}

// A Q8_0 block pair (or a single block when `two` is false): values and per-lane scales.
struct Q8Pair {
  __m512i q;
  __m512 d;
};

inline Q8Pair load_q8_pair(const uint8_t* p, bool two, const Q8Indices& idx) {
  const __m512i lo = _mm512_maskz_loadu_epi16(two ? ~__mmask32{0} : __mmask32{0x1ffff}, p);
  const __m512i hi = _mm512_maskz_loadu_epi16(two ? ~__mmask32{0} : __mmask32{0}, p + 4);
  const __m512i q = _mm512_permutex2var_epi16(lo, idx.values, hi);
  const __m512 d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(idx.scale, lo)));
  return {q, d};
}

// A weight block pair as unsigned values (q + offset folded in later), scale and min per lane.
struct WeightPair {
  __m512i q;
  __m512 d;
  __m512 m;
};

template <class L>
inline WeightPair load_weight_pair(const uint8_t* p, bool two, const Indices& idx,
                                   const Q8Indices& q8idx) {
  WeightPair wp;
  if constexpr (L::kOffset == 128) {
    const Q8Pair q8 = load_q8_pair(p, two, q8idx);
    wp.q = _mm512_xor_si512(q8.q, _mm512_set1_epi8(static_cast<char>(0x80)));
    wp.d = q8.d;
  } else {
    const __mmask32 mask =
        two ? (__mmask32{1} << (2 * L::kWords)) - 1 : (__mmask32{1} << L::kWords) - 1;
    const __m512i raw = _mm512_maskz_loadu_epi16(mask, p);
    const __m512i dup = _mm512_permutexvar_epi16(idx.nibbles, raw);
    constexpr int64_t k4 = 0x0004000400040004;  // shift count 4 in every word of a lane
    const __m512i shift = _mm512_set_epi64(k4, k4, 0, 0, k4, k4, 0, 0);
    __m512i q = _mm512_and_si512(_mm512_srlv_epi16(dup, shift), _mm512_set1_epi8(0x0f));
    if constexpr (L::kHigh >= 0) {
      // Fifth bits: byte i of the vector is element (i % 32) of block (i / 32), whose bit is
      // bit (i % 32) of that block's qh, so the two qh words in order form the byte mask.
      const __m512i qh = _mm512_permutexvar_epi16(idx.high, raw);
      const __mmask64 bits =
          _cvtu64_mask64(static_cast<uint64_t>(_mm_cvtsi128_si64(_mm512_castsi512_si128(qh))));
      q = _mm512_mask_add_epi8(q, bits, q, _mm512_set1_epi8(16));
    }
    wp.q = q;
    wp.d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(idx.scale, raw)));
    if constexpr (L::kMin >= 0)
      wp.m = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(idx.min, raw)));
  }
  return wp;
}

// The activation side of a step, shared by all rows of the tile.
struct ActPair {
  __m512i q;
  __m512 d;
  __m512i start;  // -offset * (sums of 4 activations), the dot products' starting value
  __m512 sum;     // da * (sums of 4 activations), for the min term
};

template <class L>
inline ActPair load_act_pair(const uint8_t* p, bool two, const Q8Indices& idx) {
  const Q8Pair q8 = load_q8_pair(p, two, idx);
  ActPair ap;
  ap.q = q8.q;
  ap.d = q8.d;
  if constexpr (L::kOffset != 0) {
    const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
                                             _mm512_set1_epi8(static_cast<char>(L::kOffset)), q8.q);
    ap.start = _mm512_sub_epi32(_mm512_setzero_si512(), sums);
  } else {
    ap.start = _mm512_setzero_si512();
  }
  if constexpr (L::kMin >= 0) {
    const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(1), q8.q);
    ap.sum = _mm512_mul_ps(_mm512_cvtepi32_ps(sums), q8.d);
  }
  return ap;
}

// R rows x T activations over nb blocks. Rows past num_rows repeat the last row (their results
// are computed and dropped), so one instantiation serves every row count up to R.
template <class L, int R, int T>
void tile(int64_t nb, const uint8_t* w, size_t w_stride, int num_rows, const uint8_t* act,
          size_t act_stride, float* out, size_t out_stride) {
  const Indices& idx = indices<L>();
  const Q8Indices& q8idx = q8_indices();
  constexpr int kBlockBytes = 2 * L::kWords;
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = w + (r < num_rows ? r : num_rows - 1) * w_stride;

  TilePrefetch prefetch(w, R * w_stride, (nb + 1) / 2);

  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();

  auto step = [&](int64_t b, bool two) __attribute__((always_inline)) {
    prefetch.step();
    ActPair ap[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t)
      ap[t] = load_act_pair<L>(act + t * act_stride + b * kQ8Bytes, two, q8idx);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const WeightPair wp = load_weight_pair<L>(rows[r] + b * kBlockBytes, two, idx, q8idx);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m512i dot = _mm512_dpbusd_epi32(ap[t].start, wp.q, ap[t].q);
        acc[r][t] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(wp.d, ap[t].d), acc[r][t]);
        if constexpr (L::kMin >= 0) acc[r][t] = _mm512_fmadd_ps(wp.m, ap[t].sum, acc[r][t]);
      }
    }
  };
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) step(b, true);
  if (b < nb) step(b, false);

    // Unrolled with constant indices, so that acc stays in registers.
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (r >= num_rows) break;
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) out[t * out_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

// One row tile for one activation, wider row tiles when the activations are reused less.
template <class L>
void gemm(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
          size_t act_stride, int num_acts, float* out, size_t out_stride) {
  const int64_t nb = n / kQK;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(act);
  if (num_acts == 1) {
    tile<L, 8, 1>(nb, wb, w_stride, num_rows, ab, act_stride, out, out_stride);
    return;
  }
  for (int r = 0; r < num_rows; r += 4) {
    const int nr = num_rows - r < 4 ? num_rows - r : 4;
    const uint8_t* rw = wb + r * w_stride;
    float* o = out + r;
    switch (num_acts) {
      case 2: tile<L, 4, 2>(nb, rw, w_stride, nr, ab, act_stride, o, out_stride); break;
      case 3: tile<L, 4, 3>(nb, rw, w_stride, nr, ab, act_stride, o, out_stride); break;
      default: tile<L, 4, 4>(nb, rw, w_stride, nr, ab, act_stride, o, out_stride); break;
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

// Bit-identical to the reference Q8_0 from_float (legacy_ops.cpp): the same scale, its half
// rounding, the same clamps (NaN to -127) and round-to-nearest-even.
void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK, out += kQ8Bytes) {
    const __m512 x0 = _mm512_loadu_ps(src), x1 = _mm512_loadu_ps(src + 16);
    // max_ps(a, b) returns b when a is NaN, so NaNs drop out as in the reference.
    const __m512 a0 = _mm512_max_ps(_mm512_and_ps(x0, abs_mask), _mm512_setzero_ps());
    const __m512 a1 = _mm512_max_ps(_mm512_and_ps(x1, abs_mask), _mm512_setzero_ps());
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(a0, a1));
    const uint16_t dh = _cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT);
    const float stored = _cvtsh_ss(dh);
    const float id = stored != 0.0f && stored - stored == 0.0f ? 1.0f / stored : 0.0f;
    const __m512 vid = _mm512_set1_ps(id);
    const __m512 v0 = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x0, vid), lo), hi);
    const __m512 v1 = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x1, vid), lo), hi);
    const __m128i q0 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v0));
    const __m128i q1 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v1));
    __builtin_memcpy(out, &dh, 2);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2), q0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 18), q1);
  }
}

}  // namespace inferd::backend::cpu::avx512

// AVX-512 VNNI kernels of the legacy quantized types, on weights in their file layout.
//
// A step takes a group of 4 consecutive blocks (128 elements) of every row of the tile. Two
// 64-byte loads cover a group of 4/5-bit blocks (every field is 2-byte aligned, so a word
// permute can gather them): one vpermt2w collects the 4 x 16 bytes of packed nibbles, whose low
// nibbles are elements 0-15 of each block and high nibbles elements 16-31. The activations of
// the group (Q8_0) are permuted once per step, shared by all rows, into the same two orders, so
// two vpdpbusd of unsigned weights with int8 activations give each 32-bit lane (4 lanes per
// block) a partial dot product of one block. The offset of the _0 types (q - 8, q - 16; Q8_0
// weights are made unsigned by flipping the sign bit: q + 128) is folded into the accumulator's
// starting value -offset * (sums of the activations), also computed once per step. Lanes are
// converted to float and accumulated with their block's scale d * da, so the only horizontal
// sum is at the end of the row. A last partial group is copied into a zero-padded buffer.
#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/legacy_kernels.h"
#include "backend/cpu/q8_0_block_avx512.h"
#include "backend/cpu/tile_prefetch.h"

// GCC 12 reports the _mm512_undefined_* placeholders inside its own intrinsics (cvtph_ps,
// cvtepi32_ps, reduce_add_ps) as uninitialized once they are inlined; they are not.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace inferd::backend::cpu::avx512 {
namespace {

constexpr int kQK = 32;
constexpr int kGroupBlocks = 4;
constexpr int kQ8Words = 17;  // BlockQ8_0: d, then 32 int8 in 16 words

// Layout of one legacy weight type, in 16-bit words from the start of a block (-1: absent).
struct Q4_0L {
  static constexpr int kWords = 9, kMin = -1, kHigh = -1, kQs = 1, kOffset = 8, kBits = 4;
};
struct Q4_1L {
  static constexpr int kWords = 10, kMin = 1, kHigh = -1, kQs = 2, kOffset = 0, kBits = 4;
};
struct Q5_0L {
  static constexpr int kWords = 11, kMin = -1, kHigh = 1, kQs = 3, kOffset = 16, kBits = 5;
};
struct Q5_1L {
  static constexpr int kWords = 12, kMin = 1, kHigh = 2, kQs = 4, kOffset = 0, kBits = 5;
};
struct Q8_0L {
  static constexpr int kWords = kQ8Words, kMin = -1, kHigh = -1, kQs = 1, kOffset = 128, kBits = 8;
};

// A group of 4/5-bit blocks (<= 48 words) is read as X = words [0, 32) and Y = words from 32
// to the end of the group (a masked load, never past the group), so that vpermt2w index w is
// group word w. A Q8_0 group (68 words) is read twice: X = [0, 32), Y = [32, 64) for the low
// halves and scales (index w = word w), and X = [4, 36), Y = [36, 68) for the high halves
// (index w = word w + 4).
constexpr uint16_t word(int w) {
  return static_cast<uint16_t>(w);
}

struct Q8Indices {
  __m512i low;    // word 8k + j: element pair j of block k's elements 0-15
  __m512i high;   // the same for elements 16-31
  __m512i scale;  // words 4k..4k+3: d of block k
};

Q8Indices make_q8_indices() {
  alignas(64) uint16_t lo[32], hi[32], sc[32] = {};
  for (int k = 0; k < kGroupBlocks; ++k) {
    for (int j = 0; j < 8; ++j) {
      lo[8 * k + j] = word(kQ8Words * k + 1 + j);
      hi[8 * k + j] = word(kQ8Words * k + 9 + j - 4);
    }
    for (int i = 0; i < 4; ++i) sc[4 * k + i] = word(kQ8Words * k);
  }
  return {_mm512_load_si512(lo), _mm512_load_si512(hi), _mm512_load_si512(sc)};
}

const Q8Indices& q8_indices() {
  static const Q8Indices idx = make_q8_indices();
  return idx;
}

struct Indices {
  __m512i nibbles;  // word 8k + j: byte pair j of block k's qs
  __m512i scale;    // words 4k..4k+3: d of block k
  __m512i min;      // words 4k..4k+3: m of block k
  __m512i high;     // words 0-3: low halves of qh of blocks 0-3, words 4-7: high halves
};

template <class L>
Indices make_indices() {
  alignas(64) uint16_t nib[32] = {}, sc[32] = {}, mn[32] = {}, hi[32] = {};
  for (int k = 0; k < kGroupBlocks; ++k) {
    const int base = k * L::kWords;
    for (int j = 0; j < 8; ++j) nib[8 * k + j] = word(base + L::kQs + j);
    for (int i = 0; i < 4; ++i) {
      sc[4 * k + i] = word(base);
      if (L::kMin >= 0) mn[4 * k + i] = word(base + L::kMin);
    }
    if (L::kHigh >= 0) {
      hi[k] = word(base + L::kHigh);
      hi[4 + k] = word(base + L::kHigh + 1);
    }
  }
  return {_mm512_load_si512(nib), _mm512_load_si512(sc), _mm512_load_si512(mn),
          _mm512_load_si512(hi)};
}

template <class L>
const Indices& indices() {
  static const Indices idx = make_indices<L>();
  return idx;
}

inline __m512i load(const uint8_t* p) {
  return _mm512_loadu_si512(p);
}

inline __m512 half_lanes(__m512i words) {
  return _mm512_cvtph_ps(_mm512_castsi512_si256(words));
}

// A Q8_0 group as low halves, high halves (int8, block k at bytes 16k..16k+15) and scales.
struct Q8Group {
  __m512i lo, hi;
  __m512 d;
};

inline Q8Group load_q8_group(const uint8_t* p, const Q8Indices& idx) {
  const __m512i x = load(p), y = load(p + 64);
  const __m512i xh = load(p + 8), yh = load(p + 72);
  return {_mm512_permutex2var_epi16(x, idx.low, y), _mm512_permutex2var_epi16(xh, idx.high, yh),
          half_lanes(_mm512_permutex2var_epi16(x, idx.scale, y))};
}

// The activation side of a step, shared by all rows of the tile.
struct ActGroup {
  __m512i lo, hi;
  __m512 d;
  __m512i start;  // -offset * (sums of the activations of each lane)
  __m512 sum;     // da * (sums of the activations of each lane), for the min term
};

template <class L>
inline ActGroup load_act_group(const uint8_t* p, const Q8Indices& idx) {
  const Q8Group g = load_q8_group(p, idx);
  ActGroup a{g.lo, g.hi, g.d, _mm512_setzero_si512(), _mm512_setzero_ps()};
  if constexpr (L::kOffset != 0) {
    const __m512i off = _mm512_set1_epi8(static_cast<char>(L::kOffset));
    const __m512i sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(a.start, off, g.lo), off, g.hi);
    a.start = _mm512_sub_epi32(_mm512_setzero_si512(), sums);
  }
  if constexpr (L::kMin >= 0) {
    const __m512i one = _mm512_set1_epi8(1);
    const __m512i sums =
        _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), one, g.lo), one, g.hi);
    a.sum = _mm512_mul_ps(_mm512_cvtepi32_ps(sums), g.d);
  }
  return a;
}

// A weight group as unsigned values in the activations' two orders, with per-lane scale and min.
struct WeightGroup {
  __m512i lo, hi;
  __m512 d, m;
};

template <class L>
inline WeightGroup load_weight_group(const uint8_t* p, const Indices& idx, const Q8Indices& q8) {
  WeightGroup w;
  if constexpr (L::kBits == 8) {
    const Q8Group g = load_q8_group(p, q8);
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    w.lo = _mm512_xor_si512(g.lo, flip);
    w.hi = _mm512_xor_si512(g.hi, flip);
    w.d = g.d;
  } else {
    constexpr __mmask32 kYMask = (__mmask32{1} << (kGroupBlocks * L::kWords - 32)) - 1;
    const __m512i x = load(p), y = _mm512_maskz_loadu_epi16(kYMask, p + 64);
    const __m512i packed = _mm512_permutex2var_epi16(x, idx.nibbles, y);
    const __m512i nibble = _mm512_set1_epi8(0x0f);
    w.lo = _mm512_and_si512(packed, nibble);
    w.hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), nibble);
    if constexpr (L::kBits == 5) {
      // Byte 16k + j of lo is element j of block k: bit j of qh_k; of hi, bit 16 + j. The low
      // and high qh halves of the 4 blocks in order are exactly these byte masks.
      const __m128i qh = _mm512_castsi512_si128(_mm512_permutex2var_epi16(x, idx.high, y));
      const __mmask64 lo_bits = _cvtu64_mask64(static_cast<uint64_t>(_mm_cvtsi128_si64(qh)));
      const __mmask64 hi_bits = _cvtu64_mask64(static_cast<uint64_t>(_mm_extract_epi64(qh, 1)));
      const __m512i bit4 = _mm512_set1_epi8(0x10);
      w.lo = _mm512_mask_add_epi8(w.lo, lo_bits, w.lo, bit4);
      w.hi = _mm512_mask_add_epi8(w.hi, hi_bits, w.hi, bit4);
    }
    w.d = half_lanes(_mm512_permutex2var_epi16(x, idx.scale, y));
    if constexpr (L::kMin >= 0) w.m = half_lanes(_mm512_permutex2var_epi16(x, idx.min, y));
  }
  return w;
}

// R rows x T activations over nb blocks. Rows past num_rows repeat the last row (their results
// are computed and dropped), so one instantiation serves every row count up to R.
template <class L, int R, int T>
void tile(int64_t nb, const uint8_t* w, size_t w_stride, int num_rows, const uint8_t* act,
          size_t act_stride, float* out, size_t out_stride) {
  constexpr int kBlockBytes = 2 * L::kWords;
  constexpr int kGroupBytes = kGroupBlocks * kBlockBytes;
  constexpr int kActGroupBytes = kGroupBlocks * 2 * kQ8Words;
  const Indices& idx = indices<L>();
  const Q8Indices& q8 = q8_indices();
  const uint8_t* rows[R];
  const uint8_t* acts[T];
  for (int r = 0; r < R; ++r) rows[r] = w + (r < num_rows ? r : num_rows - 1) * w_stride;
  for (int t = 0; t < T; ++t) acts[t] = act + t * act_stride;

  const int64_t num_groups = nb / kGroupBlocks, tail_blocks = nb % kGroupBlocks;
  TilePrefetch prefetch(w, R * w_stride, num_groups + (tail_blocks ? 1 : 0));

  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();

  // One group at byte offsets w_off (weights) and a_off (activations) from the row pointers.
  auto step = [&](const uint8_t* const* wr, size_t w_off, const uint8_t* const* ar, size_t a_off)
      __attribute__((always_inline)) {
    prefetch.step();
    ActGroup a[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) a[t] = load_act_group<L>(ar[t] + a_off, q8);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const WeightGroup wg = load_weight_group<L>(wr[r] + w_off, idx, q8);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m512i dot =
            _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(a[t].start, wg.lo, a[t].lo), wg.hi, a[t].hi);
        acc[r][t] =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(wg.d, a[t].d), acc[r][t]);
        if constexpr (L::kMin >= 0) acc[r][t] = _mm512_fmadd_ps(wg.m, a[t].sum, acc[r][t]);
      }
    }
  };
  for (int64_t g = 0; g < num_groups; ++g) step(rows, g * kGroupBytes, acts, g * kActGroupBytes);
  if (tail_blocks) {
    // Zero blocks have zero scales, so they add nothing.
    alignas(64) uint8_t wbuf[R][kGroupBytes] = {};
    alignas(64) uint8_t abuf[T][kActGroupBytes] = {};
    const uint8_t* wp[R];
    const uint8_t* ap[T];
    for (int r = 0; r < R; ++r) {
      __builtin_memcpy(wbuf[r], rows[r] + num_groups * kGroupBytes, tail_blocks * kBlockBytes);
      wp[r] = wbuf[r];
    }
    for (int t = 0; t < T; ++t) {
      __builtin_memcpy(abuf[t], acts[t] + num_groups * kActGroupBytes, tail_blocks * 2 * kQ8Words);
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

// Row tiles as wide as the registers allow for the number of activations.
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
    if (num_acts == 2) {
      tile<L, 4, 2>(nb, rw, w_stride, nr, ab, act_stride, o, out_stride);
    } else {
      tile<L, 4, 3>(nb, rw, w_stride, nr, ab, act_stride, o, out_stride);
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

// quantize_q8_0_block (q8_0_block_avx512.h) over every block.
void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK, out += 2 * kQ8Words) {
    const Q8Block b = quantize_q8_0_block(src);
    __builtin_memcpy(out, &b.d, 2);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2), _mm512_cvtepi32_epi8(b.q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 18), _mm512_cvtepi32_epi8(b.q1));
  }
}

}  // namespace inferd::backend::cpu::avx512

// AVX2 kernels of the K-quant family. Compiled with AVX2/FMA/F16C flags; reached only through
// kquant_type_ops(type, IsaLevel::kAvx2), which callers select after the run-time CPU check.
//
// A super-block is consumed in four chunks of 64 elements; each type decodes a chunk into 64
// unsigned codes (two 32-byte vectors in element order) and the common code multiplies them with
// vpmaddubsw (codes x int8 activations, pairs summed into int16) and vpmaddwd (times the group
// scale, summed into int32). Signed types (Q3_K, Q6_K) use codes q + offset and subtract
// offset * scale * bsum, which is exact. The 16 ymm registers hold one weight chunk and up to
// four activation rows' accumulators.
#include <immintrin.h>

#include <cstring>

#include "backend/cpu/blocks.h"
#include "backend/cpu/kquant_kernels.h"
#include "backend/cpu/kquant_scales.h"

namespace inferd::backend::cpu::kquant {
namespace {

// Per-block values shared by the four chunks.
struct Prepared {
  __m256i sc_lo, sc_hi;  // int16 scales of groups 0..7 / 8..15, in both 128-bit lanes
  __m256i m16;           // int16 multiplier of each group's activation sum
  __m256 d, neg_dm;
};

// vpshufb controls: control t puts word 2t of a lane-duplicated scale vector in the low lane
// and word 2t + 1 in the high lane.
struct ScaleShuffle {
  alignas(32) uint8_t ctl[4][32];
};
constexpr ScaleShuffle make_scale_shuffle() {
  ScaleShuffle s{};
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 32; ++i) {
      const int word = 2 * t + (i >= 16 ? 1 : 0);
      s.ctl[t][i] = static_cast<uint8_t>(2 * word + (i % 2));
    }
  return s;
}
constexpr ScaleShuffle kScaleShuffle = make_scale_shuffle();

inline void set_scales(__m256i sc16, __m256i m16, Prepared& p) {
  p.sc_lo = _mm256_permute4x64_epi64(sc16, 0x44);
  p.sc_hi = _mm256_permute4x64_epi64(sc16, 0xee);
  p.m16 = m16;
}

// Scales of chunk c: s0 for its groups 4c, 4c+1 (elements 64c .. 64c+31), s1 for 4c+2, 4c+3.
template <int c>
inline void chunk_scales(const Prepared& p, __m256i& s0, __m256i& s1) {
  const __m256i src = c < 2 ? p.sc_lo : p.sc_hi;
  s0 = _mm256_shuffle_epi8(
      src, _mm256_load_si256(reinterpret_cast<const __m256i*>(kScaleShuffle.ctl[2 * (c % 2)])));
  s1 = _mm256_shuffle_epi8(
      src, _mm256_load_si256(reinterpret_cast<const __m256i*>(kScaleShuffle.ctl[2 * (c % 2) + 1])));
}

inline __m256i load32(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Bit `from` of every byte of v, moved to bit `to` (other bits clear).
template <int from, int to>
inline __m256i move_bit(__m256i v) {
  __m256i s;
  if constexpr (from > to)
    s = _mm256_srli_epi16(v, from - to);
  else if constexpr (from < to)
    s = _mm256_slli_epi16(v, to - from);
  else
    s = v;
  return _mm256_and_si256(s, _mm256_set1_epi8(static_cast<char>(1 << to)));
}
template <int shift>
inline __m256i bits_at(__m256i v, int mask) {
  return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8(static_cast<char>(mask)));
}

inline void load_d_dmin(const f16_t* pair, Prepared& p) {
  uint32_t bits;
  std::memcpy(&bits, pair, 4);
  const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(bits)));
  p.d = _mm256_broadcastss_ps(f);
  p.neg_dm = _mm256_broadcastss_ps(_mm_movehdup_ps(_mm_sub_ps(_mm_setzero_ps(), f)));
}
inline void load_d_only(f16_t d, Prepared& p) {
  p.d = _mm256_broadcastss_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(d)));
  p.neg_dm = _mm256_sub_ps(_mm256_setzero_ps(), p.d);
}

inline void k4_prepare(const uint8_t* packed, const f16_t* d_dmin, Prepared& p) {
  uint64_t scales, mins;
  unpack_k4_scales(packed, &scales, &mins);
  __m128i s = _mm_cvtsi64_si128(static_cast<long long>(scales));
  __m128i m = _mm_cvtsi64_si128(static_cast<long long>(mins));
  set_scales(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(s, s)),
             _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m, m)), p);
  load_d_dmin(d_dmin, p);
}

struct Q2K {
  using Block = BlockQ2_K;
  static void prepare(const Block& b, Prepared& p) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    const __m128i low4 = _mm_set1_epi8(15);
    set_scales(_mm256_cvtepu8_epi16(_mm_and_si128(raw, low4)),
               _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), low4)), p);
    load_d_dmin(&b.d, p);
  }
  template <int c>
  static void chunk(const Block& b, __m256i& q0, __m256i& q1) {
    const __m256i qs = load32(b.qs + 32 * (c / 2));
    q0 = bits_at<4 * (c % 2)>(qs, 3);
    q1 = bits_at<4 * (c % 2) + 2>(qs, 3);
  }
};

struct Q3K {
  using Block = BlockQ3_K;
  static void prepare(const Block& b, Prepared& p) {
    uint64_t lo, hi;
    unpack_q3_k_scales(b.scales, &lo, &hi);
    const __m256i sc16 =
        _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_set_epi64x(static_cast<long long>(hi),
                                                             static_cast<long long>(lo))),
                         _mm256_set1_epi16(32));
    set_scales(sc16, _mm256_slli_epi16(sc16, 2), p);  // codes carry an offset of 4
    load_d_only(b.d, p);
  }
  template <int c>
  static void chunk(const Block& b, __m256i& q0, __m256i& q1) {
    constexpr int h = c / 2, j = 2 * (c % 2);
    const __m256i qs = load32(b.qs + 32 * h);
    const __m256i hmask = load32(b.hmask);
    q0 = _mm256_or_si256(bits_at<2 * j>(qs, 3), move_bit<4 * h + j, 2>(hmask));
    q1 = _mm256_or_si256(bits_at<2 * j + 2>(qs, 3), move_bit<4 * h + j + 1, 2>(hmask));
  }
};

struct Q4K {
  using Block = BlockQ4_K;
  static void prepare(const Block& b, Prepared& p) { k4_prepare(b.scales, &b.d, p); }
  template <int c>
  static void chunk(const Block& b, __m256i& q0, __m256i& q1) {
    const __m256i qs = load32(b.qs + 32 * c);
    q0 = bits_at<0>(qs, 15);
    q1 = bits_at<4>(qs, 15);
  }
};

struct Q5K {
  using Block = BlockQ5_K;
  static void prepare(const Block& b, Prepared& p) { k4_prepare(b.scales, &b.d, p); }
  template <int c>
  static void chunk(const Block& b, __m256i& q0, __m256i& q1) {
    const __m256i qs = load32(b.qs + 32 * c);
    const __m256i qh = load32(b.qh);
    q0 = _mm256_or_si256(bits_at<0>(qs, 15), move_bit<2 * c, 4>(qh));
    q1 = _mm256_or_si256(bits_at<4>(qs, 15), move_bit<2 * c + 1, 4>(qh));
  }
};

struct Q6K {
  using Block = BlockQ6_K;
  static void prepare(const Block& b, Prepared& p) {
    const __m256i sc16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    set_scales(sc16, _mm256_slli_epi16(sc16, 5), p);  // codes carry an offset of 32
    load_d_only(b.d, p);
  }
  template <int c>
  static void chunk(const Block& b, __m256i& q0, __m256i& q1) {
    constexpr int h = c / 2, nibble_shift = 4 * (c % 2);
    const __m256i ql0 = load32(b.ql + 64 * h), ql1 = load32(b.ql + 64 * h + 32);
    const __m256i qh = load32(b.qh + 32 * h);
    const __m256i bits45 = _mm256_set1_epi8(0x30);
    // Element group k = 2(c % 2) takes qh bits 2k..2k+1, group k + 1 bits 2k+2..2k+3.
    __m256i h0, h1;
    if constexpr (c % 2 == 0) {
      h0 = _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45);
      h1 = _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45);
    } else {
      h0 = _mm256_and_si256(qh, bits45);
      h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45);
    }
    q0 = _mm256_or_si256(bits_at<nibble_shift>(ql0, 15), h0);
    q1 = _mm256_or_si256(bits_at<nibble_shift>(ql1, 15), h1);
  }
};

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m256i dot_pair(__m256i q0, __m256i q1, __m256i s0, __m256i s1, const int8_t* x) {
  const __m256i p0 = _mm256_madd_epi16(
      _mm256_maddubs_epi16(q0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))), s0);
  const __m256i p1 = _mm256_madd_epi16(
      _mm256_maddubs_epi16(q1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32))), s1);
  return _mm256_add_epi32(p0, p1);
}

// Weight rows, in memory order (one sequential stream for the hardware prefetcher), against
// kActs activation rows; each chunk is decoded once for all of them.
template <class T, int kActs>
void rows_x_acts(int64_t num_blocks, const uint8_t* w, size_t w_stride, int num_rows,
                 const uint8_t* act, size_t act_stride, float* out, size_t out_stride) {
  const BlockQ8_K* x[kActs];
  for (int a = 0; a < kActs; ++a) x[a] = reinterpret_cast<const BlockQ8_K*>(act + a * act_stride);
  for (int r = 0; r < num_rows; ++r) {
    const auto* row = reinterpret_cast<const typename T::Block*>(w + r * w_stride);
    __m256 acc[kActs];
    for (int a = 0; a < kActs; ++a) acc[a] = _mm256_setzero_ps();
    for (int64_t b = 0; b < num_blocks; ++b) {
      const typename T::Block& blk = row[b];
      Prepared p;
      T::prepare(blk, p);
      __m256i isum[kActs];
      for (int a = 0; a < kActs; ++a) isum[a] = _mm256_setzero_si256();
      auto step = [&]<int c>() {
        __m256i q0, q1, s0, s1;
        T::template chunk<c>(blk, q0, q1);
        chunk_scales<c>(p, s0, s1);
        for (int a = 0; a < kActs; ++a)
          isum[a] = _mm256_add_epi32(isum[a], dot_pair(q0, q1, s0, s1, x[a][b].qs + 64 * c));
      };
      step.template operator()<0>();
      step.template operator()<1>();
      step.template operator()<2>();
      step.template operator()<3>();
      for (int a = 0; a < kActs; ++a) {
        const __m256i m = _mm256_madd_epi16(
            p.m16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[a][b].bsums)));
        const __m256 f = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), p.neg_dm,
                                         _mm256_mul_ps(_mm256_cvtepi32_ps(isum[a]), p.d));
        acc[a] = _mm256_fmadd_ps(f, _mm256_set1_ps(x[a][b].d), acc[a]);
      }
    }
    for (int a = 0; a < kActs; ++a) out[a * out_stride + r] = hsum(acc[a]);
  }
}

template <class T>
void gemm(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
          size_t act_stride, int num_acts, float* out, size_t out_stride) {
  const int64_t num_blocks = n / kQK_K;
  const uint8_t* wb = static_cast<const uint8_t*>(w);
  const uint8_t* ab = static_cast<const uint8_t*>(act);
  int a = 0;
  auto run = [&]<int kActs>() {
    rows_x_acts<T, kActs>(num_blocks, wb, w_stride, num_rows, ab + a * act_stride, act_stride,
                          out + a * out_stride, out_stride);
    a += kActs;
  };
  while (num_acts - a >= 4) run.template operator()<4>();
  if (num_acts - a >= 2) run.template operator()<2>();
  if (num_acts - a >= 1) run.template operator()<1>();
}

}  // namespace

void q2_k_gemm_avx2(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm<Q2K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q3_k_gemm_avx2(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm<Q3K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q4_k_gemm_avx2(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm<Q4K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q5_k_gemm_avx2(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm<Q5K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q6_k_gemm_avx2(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm<Q6K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}

// Same arithmetic as the scalar q8_k_from_float, eight lanes at a time.
void q8_k_from_float_avx2(const float* src, void* dst, int64_t n) {
  BlockQ8_K* blocks = static_cast<BlockQ8_K*>(dst);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ8_K& y = blocks[b];
    __m256 amax = _mm256_setzero_ps();
    // max(v, amax) keeps amax when v is NaN, as the scalar loop does.
    for (int i = 0; i < 32; ++i)
      amax = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + 8 * i)), amax);
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float m = _mm_cvtss_f32(m4);
    if (m == 0) {
      std::memset(&y, 0, sizeof(y));
      continue;
    }
    const __m256 iscale = _mm256_set1_ps(127.0f / m);
    y.d = m / 127.0f;
    for (int i = 0; i < 8; ++i) {  // 32 values: groups 2i and 2i + 1
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + 32 * i + 8 * k), iscale);
        v = _mm256_max_ps(v, lo);  // NaN -> -127
        v = _mm256_min_ps(v, hi);
        q[k] = _mm256_cvtps_epi32(v);  // round to nearest even
      }
      const __m256i g0 = _mm256_add_epi32(q[0], q[1]), g1 = _mm256_add_epi32(q[2], q[3]);
      // Both group sums at once: after two horizontal adds and the lane fold, dword 0 is the sum
      // of g0 and dword 1 the sum of g1.
      __m256i s = _mm256_hadd_epi32(g0, g1);
      s = _mm256_hadd_epi32(s, s);
      const __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
      y.bsums[2 * i] = static_cast<int16_t>(_mm_cvtsi128_si32(t));
      y.bsums[2 * i + 1] = static_cast<int16_t>(_mm_extract_epi32(t, 1));
      const __m256i w16 =
          _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y.qs + 32 * i),
                          _mm256_permutevar8x32_epi32(w16, order));
    }
  }
}

}  // namespace inferd::backend::cpu::kquant

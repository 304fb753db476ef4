// AVX-512 (F/BW/VL + VNNI) kernels of the K-quant family. Compiled with AVX-512 flags; reached
// only through kquant_type_ops(type, IsaLevel::kAvx512), which callers select after the run-time
// CPU check.
//
// Every weight type is decoded into one common form (Unpacked: 256 unsigned codes, int16 group
// scales, bsum multipliers, d and dm) and then multiplied by the same code: vpdpbusd (codes x
// int8 activations, four products summed per int32 lane), vpackssdw to int16 (exact), then
// vpmaddwd / vpdpwssd (times the group scale, summed into int32). Signed types (Q3_K, Q6_K) use
// unsigned codes q + offset and subtract offset * scale * bsum, which is exact.

// GCC 12 reports its own _mm512_undefined_* placeholders as uninitialized (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstring>

#include "backend/cpu/blocks.h"
#include "backend/cpu/kquant_kernels.h"
#include "backend/cpu/kquant_scales.h"

namespace inferd::backend::cpu::kquant {
namespace {

struct Unpacked {
  __m512i q[4];  // unsigned codes of elements 64k .. 64k + 63, in element order
  // int16 group scales matching vpackssdw(vpdpbusd(q[2p]), vpdpbusd(q[2p + 1])): in 128-bit lane
  // m of sc[p], words 0..3 hold group 8p + m's scale and words 4..7 group 8p + 4 + m's.
  __m512i sc[2];
  __m256i m16;  // int16 multiplier of each group's activation sum
  __m512 d;     // d in every lane
  __m512 dm;    // dm in every lane
};

// vpermw indices: word w of scale vector k takes group 4k + w / 8.
// Group whose scale word w of Unpacked::sc[p] holds.
constexpr int group_of_word(int p, int w) {
  return 8 * p + w / 8 + 4 * ((w % 8) / 4);
}

// vpermw indices from the 16 group scales.
struct ScaleIndex {
  alignas(64) int16_t idx[2][32];
};
constexpr ScaleIndex make_scale_index() {
  ScaleIndex s{};
  for (int p = 0; p < 2; ++p)
    for (int w = 0; w < 32; ++w) s.idx[p][w] = static_cast<int16_t>(group_of_word(p, w));
  return s;
}
constexpr ScaleIndex kScaleIndex = make_scale_index();

inline void expand_scales(__m256i sc16, __m512i sc[2]) {
  const __m512i src = _mm512_castsi256_si512(sc16);
  for (int p = 0; p < 2; ++p)
    sc[p] = _mm512_permutexvar_epi16(_mm512_load_si512(kScaleIndex.idx[p]), src);
}

// 32 bytes at p in both 256-bit halves.
inline __m512i load_twice(const uint8_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
// Per-half constants: `lo` in the low 256 bits, `hi` in the high 256 bits.
inline __m512i halves16(short lo, short hi) {
  return _mm512_inserti64x4(_mm512_set1_epi16(lo), _mm256_set1_epi16(hi), 1);
}
inline __m512i halves8(char lo, char hi) {
  return _mm512_inserti64x4(_mm512_set1_epi8(lo), _mm256_set1_epi8(hi), 1);
}

// d and dmin stored as adjacent halves: broadcast the pair, convert, then split the lanes.
inline void load_d_dmin(const f16_t* pair, Unpacked& u) {
  int32_t bits;
  std::memcpy(&bits, pair, 4);
  const __m512 both = _mm512_cvtph_ps(_mm256_set1_epi32(bits));  // d, dmin, d, dmin, ...
  u.d = _mm512_shuffle_ps(both, both, 0x00);
  u.dm = _mm512_shuffle_ps(both, both, 0x55);
}
// Signed types: the offset correction is scaled by d itself.
inline void load_d_only(f16_t d, Unpacked& u) {
  u.d = _mm512_cvtph_ps(_mm256_set1_epi16(static_cast<short>(d)));
  u.dm = u.d;
}

// Q4_K / Q5_K scales, decoded in vector registers. Word i of one vector gathers two bytes of
// the packed 12 (vpshufb) from which (W >> shift & mask1) | (W >> 10 & mask2) is scale i (i < 8)
// or min i - 8:
//   scale j < 4:  byte j & 63                 min j < 4:  byte j + 4 & 63
//   scale j >= 4: byte j + 4 & 15, bits 6..7 of byte j - 4 on top
//   min j >= 4:   byte j + 4 >> 4, bits 6..7 of byte j on top
// Then vpshufb spreads each group's sub-block scale over the words of Unpacked::sc, and min g / 2
// over word g of the min vector.
struct K4Tables {
  alignas(32) uint8_t gather[32];
  alignas(32) int16_t shift[16];
  alignas(32) int16_t mask1[16];
  alignas(32) int16_t mask2[16];
  alignas(64) uint8_t scale_spread[2][64];
  alignas(32) uint8_t min_spread[32];
};
constexpr K4Tables make_k4_tables() {
  K4Tables t{};
  for (int i = 0; i < 16; ++i) {
    const int j = i % 8;
    const bool is_min = i >= 8, high = j >= 4;
    const int lo = is_min ? j + 4 : (high ? j + 4 : j);
    const int hi = !high ? 0x80 : (is_min ? j : j - 4);  // 0x80: vpshufb writes zero
    t.shift[i] = static_cast<int16_t>(is_min && high ? 4 : 0);
    t.mask1[i] = static_cast<int16_t>(high ? 15 : 63);
    t.mask2[i] = static_cast<int16_t>(high ? 0x30 : 0);
    // vpshufb works per 128-bit lane and both lanes hold the same 16 bytes: word i lives in
    // lane i / 8 at byte 2 * (i % 8).
    t.gather[16 * (i / 8) + 2 * (i % 8)] = static_cast<uint8_t>(lo);
    t.gather[16 * (i / 8) + 2 * (i % 8) + 1] = static_cast<uint8_t>(hi);
  }
  // vpshufb controls on scale words 0..7 (min words 0..7) repeated in every 128-bit lane.
  for (int p = 0; p < 2; ++p)
    for (int i = 0; i < 64; ++i) {
      const int word = group_of_word(p, i / 2) / 2;  // the group's sub-block
      t.scale_spread[p][i] = static_cast<uint8_t>(2 * word + i % 2);
    }
  for (int i = 0; i < 32; ++i) {
    const int word = (i / 16) * 4 + (i % 16) / 4;  // word g / 2 for g = i / 2
    t.min_spread[i] = static_cast<uint8_t>(2 * word + i % 2);
  }
  return t;
}
constexpr K4Tables kK4 = make_k4_tables();

inline __m256i load256(const void* p) {
  return _mm256_load_si256(static_cast<const __m256i*>(p));
}

inline void k4_scales(const uint8_t* packed, Unpacked& u) {
  const __m256i bytes =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(packed)));
  const __m256i w = _mm256_shuffle_epi8(bytes, load256(kK4.gather));
  const __m256i low =
      _mm256_and_si256(_mm256_srlv_epi16(w, load256(kK4.shift)), load256(kK4.mask1));
  // (w >> 10 & mask2) | low
  const __m256i words =
      _mm256_ternarylogic_epi32(_mm256_srli_epi16(w, 10), load256(kK4.mask2), low, 0xEA);
  const __m512i scales = _mm512_broadcast_i32x4(_mm256_castsi256_si128(words));
  for (int p = 0; p < 2; ++p)
    u.sc[p] = _mm512_shuffle_epi8(scales, _mm512_load_si512(kK4.scale_spread[p]));
  u.m16 = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(words, 0xee), load256(kK4.min_spread));
}

struct Q2K {
  using Block = BlockQ2_K;
  static void unpack(const Block& b, Unpacked& u) {
    const __m512i three = _mm512_set1_epi8(3);
    for (int h = 0; h < 2; ++h) {
      const __m512i qs = load_twice(b.qs + 32 * h);
      for (int p = 0; p < 2; ++p)
        u.q[2 * h + p] = _mm512_and_si512(_mm512_srlv_epi16(qs, halves16(4 * p, 4 * p + 2)), three);
    }
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    const __m128i low4 = _mm_set1_epi8(15);
    expand_scales(_mm256_cvtepu8_epi16(_mm_and_si128(raw, low4)), u.sc);
    u.m16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), low4));
    load_d_dmin(&b.d, u);
  }
};

struct Q3K {
  using Block = BlockQ3_K;
  static void unpack(const Block& b, Unpacked& u) {
    const __m512i three = _mm512_set1_epi8(3), four = _mm512_set1_epi8(4);
    const __m512i hmask = load_twice(b.hmask);
    for (int h = 0; h < 2; ++h) {
      const __m512i qs = load_twice(b.qs + 32 * h);
      for (int p = 0; p < 2; ++p) {
        const int j = 2 * p;  // the low half holds j, the high half j + 1
        const __m512i low =
            _mm512_and_si512(_mm512_srlv_epi16(qs, halves16(2 * j, 2 * j + 2)), three);
        const __mmask64 high = _mm512_test_epi8_mask(
            hmask,
            halves8(static_cast<char>(1 << (4 * h + j)), static_cast<char>(1 << (4 * h + j + 1))));
        u.q[2 * h + p] = _mm512_mask_add_epi8(low, high, low, four);
      }
    }
    uint64_t lo, hi;
    unpack_q3_k_scales(b.scales, &lo, &hi);
    const __m256i sc16 =
        _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_set_epi64x(static_cast<long long>(hi),
                                                             static_cast<long long>(lo))),
                         _mm256_set1_epi16(32));
    expand_scales(sc16, u.sc);
    u.m16 = _mm256_slli_epi16(sc16, 2);  // codes carry an offset of 4
    load_d_only(b.d, u);
  }
};

struct Q4K {
  using Block = BlockQ4_K;
  static void unpack(const Block& b, Unpacked& u) {
    const __m512i low4 = _mm512_set1_epi8(15);
    const __m512i shift = halves16(0, 4);
    for (int j = 0; j < 4; ++j)
      u.q[j] = _mm512_and_si512(_mm512_srlv_epi16(load_twice(b.qs + 32 * j), shift), low4);
    k4_scales(b.scales, u);
    load_d_dmin(&b.d, u);
  }
};

struct Q5K {
  using Block = BlockQ5_K;
  static void unpack(const Block& b, Unpacked& u) {
    const __m512i low4 = _mm512_set1_epi8(15), sixteen = _mm512_set1_epi8(16);
    const __m512i shift = halves16(0, 4);
    const __m512i qh = load_twice(b.qh);
    for (int j = 0; j < 4; ++j) {
      const __m512i low =
          _mm512_and_si512(_mm512_srlv_epi16(load_twice(b.qs + 32 * j), shift), low4);
      const __mmask64 high = _mm512_test_epi8_mask(
          qh, halves8(static_cast<char>(1 << (2 * j)), static_cast<char>(1 << (2 * j + 1))));
      u.q[j] = _mm512_mask_add_epi8(low, high, low, sixteen);
    }
    k4_scales(b.scales, u);
    load_d_dmin(&b.d, u);
  }
};

struct Q6K {
  using Block = BlockQ6_K;
  static void unpack(const Block& b, Unpacked& u) {
    const __m512i low4 = _mm512_set1_epi8(15), bits45 = _mm512_set1_epi8(0x30);
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(b.ql + 64 * h);
      const __m512i qh = load_twice(b.qh + 32 * h);
      const __m512i lo = _mm512_and_si512(ql, low4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(ql, 4), low4);
      // (shifted & 0x30) | nibbles: qh bits 2k..2k+1 become bits 4..5 of the code.
      u.q[2 * h] =
          _mm512_ternarylogic_epi64(_mm512_sllv_epi16(qh, halves16(4, 2)), bits45, lo, 0xEA);
      u.q[2 * h + 1] =
          _mm512_ternarylogic_epi64(_mm512_srlv_epi16(qh, halves16(0, 2)), bits45, hi, 0xEA);
    }
    const __m256i sc16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    expand_scales(sc16, u.sc);
    u.m16 = _mm256_slli_epi16(sc16, 5);  // codes carry an offset of 32
    load_d_only(b.d, u);
  }
};

// One activation block in registers.
struct Act {
  __m512i qs[4];
  __m256i bsums;
  __m512 d;
};

inline Act load_act(const BlockQ8_K& x) {
  Act a;
  for (int k = 0; k < 4; ++k) a.qs[k] = _mm512_loadu_si512(x.qs + 64 * k);
  a.bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums));
  a.d = _mm512_set1_ps(x.d);
  return a;
}

// acc + d_act * (d * sum sc*q*a - dm * sum m*bsum), spread over the lanes.
inline __m512 block_dot(const Unpacked& u, const Act& x, __m512 acc) {
  // vpdpbusd sums 4 products per int32 lane (|sum| <= 4 * 63 * 128 fits int16, so vpackssdw is
  // exact); vpmaddwd / vpdpwssd then weight pairs of those sums with their group scale.
  __m512i s;
  for (int p = 0; p < 2; ++p) {
    const __m512i lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u.q[2 * p], x.qs[2 * p]);
    const __m512i hi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u.q[2 * p + 1], x.qs[2 * p + 1]);
    const __m512i sums = _mm512_packs_epi32(lo, hi);
    s = p == 0 ? _mm512_madd_epi16(sums, u.sc[0]) : _mm512_dpwssd_epi32(s, sums, u.sc[1]);
  }
  const __m256i m = _mm256_madd_epi16(u.m16, x.bsums);
  __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(s), u.d);
  f = _mm512_mask3_fnmadd_ps(_mm512_castps256_ps512(_mm256_cvtepi32_ps(m)), u.dm, f, 0x00ff);
  return _mm512_fmadd_ps(f, x.d, acc);
}

// Weight rows against kActs activation rows. Rows are walked in memory order, so decode reads
// one sequential stream that the hardware prefetcher follows (interleaving rows measured several
// times slower from DRAM); each block is unpacked once for all kActs activation rows, which stay
// in L1/L2.
template <class T, int kActs>
void rows_x_acts(int64_t num_blocks, const uint8_t* w, size_t w_stride, int num_rows,
                 const uint8_t* act, size_t act_stride, float* out, size_t out_stride) {
  const BlockQ8_K* x[kActs];
  for (int a = 0; a < kActs; ++a) x[a] = reinterpret_cast<const BlockQ8_K*>(act + a * act_stride);
  for (int r = 0; r < num_rows; ++r) {
    const auto* row = reinterpret_cast<const typename T::Block*>(w + r * w_stride);
    __m512 acc[kActs];
    for (int a = 0; a < kActs; ++a) acc[a] = _mm512_setzero_ps();
    for (int64_t b = 0; b < num_blocks; ++b) {
      Unpacked u;
      T::unpack(row[b], u);
      for (int a = 0; a < kActs; ++a) acc[a] = block_dot(u, load_act(x[a][b]), acc[a]);
    }
    for (int a = 0; a < kActs; ++a) out[a * out_stride + r] = _mm512_reduce_add_ps(acc[a]);
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
  while (num_acts - a >= 8) run.template operator()<8>();
  if (num_acts - a >= 4) run.template operator()<4>();
  if (num_acts - a >= 2) run.template operator()<2>();
  if (num_acts - a >= 1) run.template operator()<1>();
}

}  // namespace

void q2_k_gemm_avx512(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                      size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm<Q2K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q3_k_gemm_avx512(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                      size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm<Q3K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q4_k_gemm_avx512(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                      size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm<Q4K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q5_k_gemm_avx512(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                      size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm<Q5K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q6_k_gemm_avx512(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                      size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm<Q6K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}

// Same arithmetic as the scalar q8_k_from_float, sixteen lanes at a time.
void q8_k_from_float_avx512(const float* src, void* dst, int64_t n) {
  BlockQ8_K* blocks = static_cast<BlockQ8_K*>(dst);
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ8_K& y = blocks[b];
    __m512 amax = _mm512_setzero_ps();
    // max(v, amax) keeps amax when v is NaN, as the scalar loop does.
    for (int i = 0; i < 16; ++i)
      amax = _mm512_max_ps(_mm512_andnot_ps(sign, _mm512_loadu_ps(x + 16 * i)), amax);
    const float m = _mm512_reduce_max_ps(amax);
    if (m == 0) {
      std::memset(&y, 0, sizeof(y));
      continue;
    }
    const __m512 iscale = _mm512_set1_ps(127.0f / m);
    y.d = m / 127.0f;
    for (int g = 0; g < 16; ++g) {
      __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + 16 * g), iscale);
      v = _mm512_max_ps(v, lo);  // NaN -> -127
      v = _mm512_min_ps(v, hi);
      const __m512i q = _mm512_cvtps_epi32(v);  // round to nearest even
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y.qs + 16 * g), _mm512_cvtepi32_epi8(q));
      y.bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
  }
}

}  // namespace inferd::backend::cpu::kquant

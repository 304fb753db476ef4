// AVX-512 VNNI panel kernels (layout and arithmetic in panel_ops.h).
//
// Per record and group of 16 rows: the 16 half scales widen to one float vector (MLX: the 16
// scales and the 16 biases load as two); per block, the kBits 64-byte quant chunks unpack with
// shifts and masks into 8 registers of unsigned weights (8-bit: the chunks themselves; narrower
// codes: the OR of their bit planes), 4 consecutive elements of each of the 16 rows per 32-bit
// lane, and one vpdpbusd per register with the matching 4 activation bytes broadcast to every
// lane adds their products to each row's integer dot product. The unpacking is shared by the
// tokens of a prefill tile, so a narrower code costs a few more ALU operations per block and
// group but no more vpdpbusd per token. Two partial sums shorten the dependency chain; integer
// addition is exact, so the result is the reference's. The float steps are the reference's fmas.
#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/panel_ops.h"
#include "backend/cpu/q8_0_block_avx512.h"
#include "backend/mlx_affine.h"

// GCC 12 reports the _mm512_undefined_* placeholders inside its own intrinsics as uninitialized
// once they are inlined; they are not.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace inferd::backend::cpu::avx512 {
namespace {

constexpr int kQK = 32;
constexpr int kChunkBytes = 64;

inline __m512i bcast(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// A w-bit plane of a group (w consecutive chunks from q) unpacked into the weight registers:
// register i = w * f + c (elements 4i..4i+3 of each row) gets field f of chunk c, shifted into
// code bits [low, low + w). The lowest plane sets the registers, the others OR into them.
template <int kWidth, int kLow>
[[gnu::always_inline]] inline void unpack_plane(const uint8_t* q, __m512i (&w)[8]) {
  static_assert(kWidth == 1 || kWidth == 2 || kWidth == 4);
  const __m512i mask = _mm512_set1_epi8(static_cast<char>(((1 << kWidth) - 1) << kLow));
#pragma GCC unroll 4
  for (int c = 0; c < kWidth; ++c) {
    const __m512i x = _mm512_load_si512(q + c * kChunkBytes);
#pragma GCC unroll 8
    for (int f = 0; f < 8 / kWidth; ++f) {
      // Field f sits at bits [kWidth * f, +kWidth) of each byte; move it to bit kLow. The shift
      // is per 32-bit lane, so bits from the neighbouring byte enter, and the mask removes them.
      const int right = kWidth * f - kLow;
      const __m512i moved = right > 0   ? _mm512_srli_epi32(x, right)
                            : right < 0 ? _mm512_slli_epi32(x, -right)
                                        : x;
      __m512i& dst = w[kWidth * f + c];
      if constexpr (kLow == 0) {
        dst = _mm512_and_si512(moved, mask);
      } else {
        dst = _mm512_ternarylogic_epi32(moved, mask, dst, 0xEA);  // (moved & mask) | dst
      }
    }
  }
}

// Unsigned weights of a group's block (kBits chunks at q, panel_ops.h): w[i] holds elements
// 4i..4i+3 of each of the 16 rows in its lane. 8-bit chunks are the registers themselves; narrower
// codes are the OR of their bit planes (mlx_chunk_planes), so the weights are exact and one
// vpdpbusd per register multiplies a whole code whatever the plane split.
template <int kBits>
struct GroupWeights {
  __m512i w[8];
  [[gnu::always_inline]] explicit GroupWeights(const uint8_t* q) {
    constexpr MlxChunkPlanes kPlanes = mlx_chunk_planes(kBits);
    if constexpr (kBits == 8) {
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) w[j] = _mm512_load_si512(q + j * kChunkBytes);
    } else {
      unpack_plane<kPlanes.low_bits, 0>(q, w);
      if constexpr (kPlanes.high_bits > 0)
        unpack_plane<kPlanes.high_bits, kPlanes.low_bits>(q + kPlanes.low_bits * kChunkBytes, w);
    }
  }
};

// Integer dot products of the 16 rows of a group with one activation block. Weight register j
// covers activation bytes 4j..4j+3.
template <int kChunks>
[[gnu::always_inline]] inline __m512i block_dot(const GroupWeights<kChunks>& g, const int8_t* a,
                                                int32_t start) {
  __m512i s0 = _mm512_set1_epi32(start), s1 = _mm512_setzero_si512();
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    s0 = _mm512_dpbusd_epi32(s0, g.w[2 * j], bcast(a + 8 * j));
    s1 = _mm512_dpbusd_epi32(s1, g.w[2 * j + 1], bcast(a + 8 * j + 4));
  }
  return _mm512_add_epi32(s0, s1);
}

// The weight format: 64-byte quant chunks per group and block (the weight bits), 32-element
// blocks per record, whether the header holds MLX affine f32 scales and biases (else Q4_0 / Q8_0
// half scales), and the panels decode reads in step (PanelOps::streams).
template <int kChunks, int kSubBlocks, bool kAffine, int kDecodeStreams>
struct Format {
  static constexpr int kChunksPerBlock = kChunks;
  static constexpr int kBlocks = kSubBlocks;
  static constexpr bool kIsAffine = kAffine;
  static constexpr size_t kHeaderBytes = kAffine ? kPanelRows * 8 : kPanelRows * 2;
  static constexpr size_t kBlockBytes = kPanelGroups * kChunks * kChunkBytes;
  static constexpr size_t kRecordBytes = kHeaderBytes + kSubBlocks * kBlockBytes;
  static constexpr int kStreams = kDecodeStreams;
  static_assert(kStreams >= 1 && kStreams <= kPanelMaxJobs);
};

// One token's PanelActs row: quants, widened scales and start terms of its blocks.
struct TokenActs {
  const int8_t* q = nullptr;
  const float* d = nullptr;
  const int32_t* start = nullptr;
  TokenActs() = default;
  TokenActs(const uint8_t* a, int64_t nb)
      : q(reinterpret_cast<const int8_t*>(a)),
        d(reinterpret_cast<const float*>(a + panel_act_d_offset(nb))),
        start(reinterpret_cast<const int32_t*>(a + panel_act_start_offset(nb))) {}
};

// Group gi's 16 scales in record `rec`, and its 16 biases (MLX; zero for the other types).
template <class F>
[[gnu::always_inline]] inline __m512 group_scales(const uint8_t* rec, int gi) {
  if constexpr (F::kIsAffine) {
    return _mm512_load_ps(rec + gi * kPanelGroupRows * 4);
  } else {
    return _mm512_cvtph_ps(
        _mm256_load_si256(reinterpret_cast<const __m256i*>(rec + gi * kPanelGroupRows * 2)));
  }
}
template <class F>
[[gnu::always_inline]] inline __m512 group_biases(const uint8_t* rec, int gi) {
  if constexpr (F::kIsAffine) return _mm512_load_ps(rec + (kPanelRows + gi * kPanelGroupRows) * 4);
  return _mm512_setzero_ps();
}

// Group gi's weights of block sb in record `rec`.
template <class F>
[[gnu::always_inline]] inline GroupWeights<F::kChunksPerBlock> group_weights(const uint8_t* rec,
                                                                             int sb, int gi) {
  return GroupWeights<F::kChunksPerBlock>(rec + F::kHeaderBytes + sb * F::kBlockBytes +
                                          gi * F::kChunksPerBlock * kChunkBytes);
}

// acc += the products of a group's block k with one token, the reference's fmas.
template <class F>
[[gnu::always_inline]] inline void add_block(const GroupWeights<F::kChunksPerBlock>& w,
                                             const TokenActs& act, int64_t k, __m512 scale_w,
                                             __m512 bias_w, __m512& acc) {
  const float ad = act.d[k];
  const __m512 da = _mm512_set1_ps(ad);
  if constexpr (F::kIsAffine) {
    const __m512i dot = block_dot(w, act.q + k * kQK, 0);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(scale_w, da), acc);
    acc = _mm512_fmadd_ps(bias_w, _mm512_set1_ps(ad * static_cast<float>(act.start[k])), acc);
  } else {
    const __m512i dot = block_dot(w, act.q + k * kQK, act.start[k]);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(scale_w, da), acc);
  }
}

// Adds record `rec`'s contribution (blocks k0 .. k0 + kBlocks - 1) to group gi's 16 rows x T
// tokens.
template <class F, int T>
[[gnu::always_inline]] inline void group_record(const uint8_t* rec, int gi, int64_t k0,
                                                const TokenActs (&acts)[T], __m512 (&acc)[T]) {
  const __m512 scale_w = group_scales<F>(rec, gi), bias_w = group_biases<F>(rec, gi);
#pragma GCC unroll 4
  for (int sb = 0; sb < F::kBlocks; ++sb) {
    const auto w = group_weights<F>(rec, sb, gi);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) add_block<F>(w, acts[t], k0 + sb, scale_w, bias_w, acc[t]);
  }
}

// Keeps the compiler from moving memory accesses across this point (it emits no instruction).
[[gnu::always_inline]] inline void keep_access_order() {
  asm volatile("" ::: "memory");
}

// Decode: adds record `rec`'s contribution (blocks k0 .. k0 + kBlocks - 1) to the 4 groups of
// one token, touching the record's cache lines in address order: first the whole header, then
// each block's groups. A record streams in from memory, and the processor's prefetchers follow
// a stream that only moves forward; when the loads jump back and forth within a record (a
// group's scales, its quants in one block, then in the next, then the next group's scales),
// or when the compiler hoists later groups' loads ahead of earlier ones, they fall behind.
// Measured on the ffn shape (11264 x 2048, 2 threads, regions of 13 MB), fraction of the read
// bandwidth before -> after: Q8_0 87-89% -> 99-110%, Q4_0 about 100% either way, MLX 4-bit
// 57-67% -> 98%, MLX 8-bit 73-79% -> 90-99%. Each group's sums run in the order of
// group_record's, so the results are the same.
template <class F>
[[gnu::always_inline]] inline void decode_record(const uint8_t* rec, int64_t k0,
                                                 const TokenActs& act,
                                                 __m512 (&acc)[kPanelGroups]) {
  __m512 scale_w[kPanelGroups], bias_w[kPanelGroups];
#pragma GCC unroll 4
  for (int gi = 0; gi < kPanelGroups; ++gi) scale_w[gi] = group_scales<F>(rec, gi);
#pragma GCC unroll 4
  for (int gi = 0; gi < kPanelGroups; ++gi) bias_w[gi] = group_biases<F>(rec, gi);
  keep_access_order();
#pragma GCC unroll 4
  for (int sb = 0; sb < F::kBlocks; ++sb) {
#pragma GCC unroll 4
    for (int gi = 0; gi < kPanelGroups; ++gi) {
      add_block<F>(group_weights<F>(rec, sb, gi), act, k0 + sb, scale_w[gi], bias_w[gi], acc[gi]);
      keep_access_order();
    }
  }
}

// Stores the first n (<= 16) lanes of v.
inline void store_rows(float* out, int n, __m512 v) {
  if (n <= 0) return;
  const __mmask16 mask = n >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << n) - 1);
  _mm512_mask_storeu_ps(out, mask, v);
}

// Prefill tile: group g of a panel x T tokens over nb blocks.
template <class F, int T>
void tile(int64_t nb, const uint8_t* panel, int g, const uint8_t* act, size_t act_stride,
          float* out, size_t out_stride, int num_rows) {
  TokenActs acts[T];
  for (int t = 0; t < T; ++t) acts[t] = TokenActs(act + t * act_stride, nb);
  __m512 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  const uint8_t* rec = panel;
  for (int64_t k0 = 0; k0 < nb; k0 += F::kBlocks, rec += F::kRecordBytes)
    group_record<F, T>(rec, g, k0, acts, acc);
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) store_rows(out + t * out_stride, num_rows, acc[t]);
}

// Decode: P whole panels x one token, their records read in step so that the core fetches P
// sequential streams at once.
template <class F, int P>
void decode_panels(int64_t nb, const PanelJob* jobs, const uint8_t* act_row) {
  const TokenActs act(act_row, nb);
  __m512 acc[P][kPanelGroups];
  const uint8_t* rec[P];
#pragma GCC unroll 4
  for (int p = 0; p < P; ++p) {
    rec[p] = jobs[p].panel;
#pragma GCC unroll 4
    for (int g = 0; g < kPanelGroups; ++g) acc[p][g] = _mm512_setzero_ps();
  }
  for (int64_t k0 = 0; k0 < nb; k0 += F::kBlocks) {
#pragma GCC unroll 4
    for (int p = 0; p < P; ++p) {
      decode_record<F>(rec[p], k0, act, acc[p]);
      rec[p] += F::kRecordBytes;
    }
  }
#pragma GCC unroll 4
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int g = 0; g < kPanelGroups; ++g)
      store_rows(jobs[p].out + g * kPanelGroupRows, jobs[p].rows - g * kPanelGroupRows, acc[p][g]);
}

template <class F>
void gemm(int64_t nb, const uint8_t* panel, int group, const uint8_t* act, size_t act_stride,
          int num_acts, float* out, size_t out_stride, int num_rows) {
  switch (num_acts) {
#define INFERD_PANEL_CASE(T) \
  case T: tile<F, T>(nb, panel, group, act, act_stride, out, out_stride, num_rows); break;
    INFERD_PANEL_CASE(1)
    INFERD_PANEL_CASE(2)
    INFERD_PANEL_CASE(3)
    INFERD_PANEL_CASE(4)
    INFERD_PANEL_CASE(5)
    INFERD_PANEL_CASE(6)
    INFERD_PANEL_CASE(7)
    INFERD_PANEL_CASE(8)
#undef INFERD_PANEL_CASE
    default: __builtin_trap();
  }
}

template <class F>
void decode(int64_t nb, const PanelJob* jobs, int num_jobs, const uint8_t* act) {
  int j = 0;
  if constexpr (F::kStreams == 3)
    for (; j + 3 <= num_jobs; j += 3) decode_panels<F, 3>(nb, jobs + j, act);
  if constexpr (F::kStreams >= 2)
    for (; j + 2 <= num_jobs; j += 2) decode_panels<F, 2>(nb, jobs + j, act);
  for (; j < num_jobs; ++j) decode_panels<F, 1>(nb, jobs + j, act);
}

}  // namespace

#define INFERD_PANEL_KERNELS(name, type, bits, group_elems, affine, start_factor, streams)       \
  void panel_gemm_##name(int64_t nb, const uint8_t* panel, int group, const uint8_t* act,        \
                         size_t act_stride, int num_acts, float* out, size_t out_stride,         \
                         int num_rows) {                                                         \
    gemm<Format<bits, group_elems / kQK, affine, streams>>(nb, panel, group, act, act_stride,    \
                                                           num_acts, out, out_stride, num_rows); \
  }                                                                                              \
  void panel_decode_##name(int64_t nb, const PanelJob* jobs, int num_jobs, const uint8_t* act) { \
    decode<Format<bits, group_elems / kQK, affine, streams>>(nb, jobs, num_jobs, act);           \
  }
INFERD_PANEL_TYPES(INFERD_PANEL_KERNELS)
#undef INFERD_PANEL_KERNELS

// quantize_q8_0_block (q8_0_block_avx512.h) per block, its values split into the arrays; the
// block's sum is that of the same integers before they narrow to bytes.
void quantize_panel_acts(const float* x, int64_t nb, int64_t k0, int64_t k1, int start_factor,
                         uint8_t* dst) {
  auto* qs = reinterpret_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(dst + panel_act_d_offset(nb));
  auto* start = reinterpret_cast<int32_t*>(dst + panel_act_start_offset(nb));
  for (int64_t k = k0; k < k1; ++k) {
    const Q8Block b = quantize_q8_0_block(x + k * kQK);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + k * kQK), _mm512_cvtepi32_epi8(b.q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + k * kQK + 16), _mm512_cvtepi32_epi8(b.q1));
    d[k] = _cvtsh_ss(b.d);
    start[k] = start_factor * _mm512_reduce_add_epi32(_mm512_add_epi32(b.q0, b.q1));
  }
}

}  // namespace inferd::backend::cpu::avx512

// AVX-512 versions of the attention kernels that gain from wider registers (16 halves of a
// cached row per instruction); every other VecOps entry is the AVX2 one.
#include <immintrin.h>

// GCC 12 reports the _mm512_undefined_* placeholders inside its own intrinsics as uninitialized
// once they are inlined; they are not.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "backend/cpu/attention_rows_simd.h"
#include "backend/cpu/vec_ops.h"

namespace inferd::backend::cpu {
namespace {

struct Lanes {
  using Reg = __m512;
  static constexpr int kWidth = 16;
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static Reg load_f16(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg set1(float v) { return _mm512_set1_ps(v); }
  static void store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  // Every register's lanes are summed in the same order: within each 128-bit quarter
  // (x0 + x2) + (x1 + x3), then the quarters as (q0 + q1) + (q2 + q3). pairs() does the first
  // step for two registers (their quarter sums interleaved), quads() the second for four.
  static Reg pairs(Reg a, Reg b) {
    return _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  }
  static Reg quads(Reg ab, Reg cd) {
    return _mm512_add_ps(_mm512_shuffle_ps(ab, cd, 0x44), _mm512_shuffle_ps(ab, cd, 0xEE));
  }
  // The quarters of the result: (q0 + q1) and (q2 + q3) of t0, then the same of t1.
  static Reg halves(Reg t0, Reg t1) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(t0, t1, 0x88), _mm512_shuffle_f32x4(t0, t1, 0xDD));
  }
  static __m128 hsum4(Reg a0, Reg a1, Reg a2, Reg a3) {
    const Reg t = quads(pairs(a0, a1), pairs(a2, a3));
    const Reg w = halves(t, t);
    return _mm512_castps512_ps128(halves(w, w));
  }
  // out[h][x] = the lane sum of a[h][x], each in hsum4's order.
  static void hsum16(const Reg (&a)[4][4], float (&out)[4][4]) {
    Reg t[4];
    for (int h = 0; h < 4; ++h) t[h] = quads(pairs(a[h][0], a[h][1]), pairs(a[h][2], a[h][3]));
    _mm512_storeu_ps(&out[0][0], halves(halves(t[0], t[1]), halves(t[2], t[3])));
  }
};

// Four heads at a time: 16 accumulators of 64 columns, a row's 4 registers and a broadcast.
constexpr int kMaxHeads = 4;

// The columns past the last chunk of 64 through the AVX2 kernel (the same fma per element).
void weighted_sum_f16(const float* p, int64_t p_stride, int heads, const uint8_t* rows,
                      size_t stride, int64_t n, int64_t d, float* y, int64_t y_stride) {
  const int64_t i0 =
      weighted_sum_chunks<Lanes, kMaxHeads>(p, p_stride, heads, rows, stride, n, d, y, y_stride);
  if (i0 < d)
    vec_ops_avx2()->weighted_sum_f16(p, p_stride, heads, rows + 2 * i0, stride, n, d - i0, y + i0,
                                     y_stride);
}

}  // namespace

const VecOps* vec_ops_avx512() {
  static const VecOps table = [] {
    VecOps t = *vec_ops_avx2();
    t.scores_f16 = scores_rows<Lanes, kMaxHeads>;
    t.weighted_sum_f16 = weighted_sum_f16;
    return t;
  }();
  return &table;
}

}  // namespace inferd::backend::cpu

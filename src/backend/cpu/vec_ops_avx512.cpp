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
  static __m256 fold(Reg a) {
    return _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
  }
  // The two halves of each register, then pairs, quads and halves again.
  static __m128 hsum4(Reg a0, Reg a1, Reg a2, Reg a3) {
    const __m256 s =
        _mm256_hadd_ps(_mm256_hadd_ps(fold(a0), fold(a1)), _mm256_hadd_ps(fold(a2), fold(a3)));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
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

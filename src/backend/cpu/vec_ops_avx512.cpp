// AVX-512 versions of the VecOps kernels that gain from wider registers: the attention row
// kernels (16 halves of a cached row per instruction) and the elementwise ones (exp_shifted,
// silu_mul, rms_norm, each giving the AVX2 version's bits); every other entry is the AVX2 one.
#include <immintrin.h>

// GCC 12 reports the _mm512_undefined_* placeholders inside its own intrinsics as uninitialized
// once they are inlined; they are not.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "backend/cpu/attention_rows_simd.h"
#include "backend/cpu/exp_simd.h"
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

// exp_lanes' operations on 16 lanes.
struct ExpLanes {
  using Reg = __m512;
  using Int = __m512i;
  static Reg set1(float v) { return _mm512_set1_ps(v); }
  static Int set1i(int32_t v) { return _mm512_set1_epi32(v); }
  static Reg min(Reg a, Reg b) { return _mm512_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm512_max_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg fnmadd(Reg a, Reg b, Reg c) { return _mm512_fnmadd_ps(a, b, c); }
  static Reg round(Reg a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static Int to_int(Reg a) { return _mm512_cvtps_epi32(a); }
  static Int half(Int a) { return _mm512_srai_epi32(a, 1); }
  static Int add_i(Int a, Int b) { return _mm512_add_epi32(a, b); }
  static Int sub_i(Int a, Int b) { return _mm512_sub_epi32(a, b); }
  static Reg as_exponent(Int a) { return _mm512_castsi512_ps(_mm512_slli_epi32(a, 23)); }
  static Reg zero_below(Reg x, Reg low, Reg v) {
    return _mm512_maskz_mov_ps(static_cast<__mmask16>(~_mm512_cmp_ps_mask(x, low, _CMP_LT_OQ)), v);
  }
};

__m512 exp_ps(__m512 x) {
  return exp_lanes<ExpLanes>(x);
}

// The lanes of the first n (< 16) elements, the others zero.
__mmask16 first_lanes(int64_t n) {
  return static_cast<__mmask16>((1u << n) - 1);
}

// The AVX2 version's order: its four double lanes take each group of 8 exponentials' halves in
// turn, then (l0 + l1) + (l2 + l3), then the last n % 8 one by one.
double exp_shifted(float* x, int64_t n, float shift) {
  const __m512 vs = _mm512_set1_ps(shift);
  __m256d sum = _mm256_setzero_pd();
  const auto add_quarters = [&](__m512 e, int quarters) {
    const __m256 lo = _mm512_castps512_ps256(e);
    sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_castps256_ps128(lo)));
    sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_extractf128_ps(lo, 1)));
    if (quarters < 4) return;
    const __m256 hi = _mm512_extractf32x8_ps(e, 1);
    sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_castps256_ps128(hi)));
    sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_extractf128_ps(hi, 1)));
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vs));
    _mm512_storeu_ps(x + i, e);
    add_quarters(e, 4);
  }
  if (i + 8 <= n) {
    const __mmask16 m = first_lanes(8);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vs));
    _mm512_mask_storeu_ps(x + i, m, e);
    add_quarters(e, 2);
    i += 8;
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, sum);
  double total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    _mm512_mask_storeu_ps(x + i, m, exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vs)));
    for (; i < n; ++i) total += x[i];
  }
  return total;
}

void silu_mul(float* gate, const float* up, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f), sign = _mm512_set1_ps(-0.0f);
  const auto silu = [&](__m512 g, __m512 u) {
    const __m512 e = exp_ps(_mm512_xor_ps(g, sign));
    return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), u);
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(gate + i, silu(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    _mm512_mask_storeu_ps(
        gate + i, m, silu(_mm512_maskz_loadu_ps(m, gate + i), _mm512_maskz_loadu_ps(m, up + i)));
  }
}

// The 8 partial sums are the 8 double lanes.
void rms_norm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  __m512d acc = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm256_mul_ps(v, v)));
  }
  alignas(64) double part[8];
  _mm512_store_pd(part, acc);
  for (; i < n; ++i) part[0] += static_cast<double>(x[i] * x[i]);
  const __m512 vs = _mm512_set1_ps(rms_scale(part, n, eps));
  for (i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16{0xffff} : first_lanes(n - i);
    _mm512_mask_storeu_ps(out + i, m,
                          _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs),
                                        _mm512_maskz_loadu_ps(m, weight + i)));
  }
}

}  // namespace

const VecOps* vec_ops_avx512() {
  static const VecOps table = [] {
    VecOps t = *vec_ops_avx2();
    t.scores_f16 = scores_rows<Lanes, kMaxHeads>;
    t.weighted_sum_f16 = weighted_sum_f16;
    t.exp_shifted = exp_shifted;
    t.silu_mul = silu_mul;
    t.rms_norm = rms_norm;
    return t;
  }();
  return &table;
}

}  // namespace inferd::backend::cpu

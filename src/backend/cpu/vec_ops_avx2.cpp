#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "backend/cpu/attention_rows_simd.h"
#include "backend/cpu/exp_simd.h"
#include "backend/cpu/vec_ops.h"

namespace inferd::backend::cpu {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float dot_f32_f16(const float* a, const f16_t* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    __m256 b1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 8)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), b0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), b1, acc1);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * _cvtsh_ss(b[i]);
  return sum;
}

void axpy_f16(float alpha, const f16_t* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 xv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, xv, _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += alpha * _cvtsh_ss(x[i]);
}

void f32_to_f16(const float* src, f16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}

// The 8 int8 values at q as floats.
__m256 load_q8(const int8_t* q) {
  return _mm256_cvtepi32_ps(
      _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q))));
}

float dot_f32_q8_0(const float* a, const BlockQ8_0* x, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK; ++b, a += kQK) {
    __m256 block = _mm256_mul_ps(_mm256_loadu_ps(a), load_q8(x[b].qs));
    block = _mm256_fmadd_ps(_mm256_loadu_ps(a + 8), load_q8(x[b].qs + 8), block);
    block = _mm256_fmadd_ps(_mm256_loadu_ps(a + 16), load_q8(x[b].qs + 16), block);
    block = _mm256_fmadd_ps(_mm256_loadu_ps(a + 24), load_q8(x[b].qs + 24), block);
    acc = _mm256_fmadd_ps(block, _mm256_set1_ps(_cvtsh_ss(x[b].d)), acc);
  }
  return hsum(acc);
}

void axpy_q8_0(float alpha, const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const __m256 scale = _mm256_set1_ps(alpha * _cvtsh_ss(x[b].d));
    for (int i = 0; i < kQK; i += 8)
      _mm256_storeu_ps(y + i, _mm256_fmadd_ps(scale, load_q8(x[b].qs + i), _mm256_loadu_ps(y + i)));
  }
}

struct Lanes {
  using Reg = __m256;
  static constexpr int kWidth = 8;
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static Reg load_f16(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg set1(float v) { return _mm256_set1_ps(v); }
  static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  // Pairs, then quads, then the two halves.
  static __m128 hsum4(Reg a0, Reg a1, Reg a2, Reg a3) {
    const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  }
};

// One head at a time: 16 registers hold one head's accumulators and a row.
constexpr int kMaxHeads = 1;

void weighted_sum_f16(const float* p, int64_t p_stride, int heads, const uint8_t* rows,
                      size_t stride, int64_t n, int64_t d, float* y, int64_t y_stride) {
  const int64_t i0 =
      weighted_sum_chunks<Lanes, kMaxHeads>(p, p_stride, heads, rows, stride, n, d, y, y_stride);
  if (i0 == d) return;
  for (int h = 0; h < heads; ++h)
    for (int64_t j = 0; j < n; ++j)
      axpy_f16(p[h * p_stride + j], reinterpret_cast<const f16_t*>(rows + j * stride + 2 * i0),
               y + h * y_stride + i0, d - i0);
}

void round_to_f16(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(
        x + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT)));
  for (; i < n; ++i) x[i] = _cvtsh_ss(_cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT));
}

float scale_max(float* x, int64_t n, float scale) {
  const __m256 vs = _mm256_set1_ps(scale);
  // max_ps returns its second operand when either is NaN: NaN scores leave the maxima as they are.
  __m256 m0 = _mm256_set1_ps(-std::numeric_limits<float>::infinity()), m1 = m0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
    const __m256 b = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8), vs);
    _mm256_storeu_ps(x + i, a);
    _mm256_storeu_ps(x + i + 8, b);
    m0 = _mm256_max_ps(a, m0);
    m1 = _mm256_max_ps(b, m1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_max_ps(m0, m1));
  float max = lanes[0];
  for (int k = 1; k < 8; ++k) max = std::max(max, lanes[k]);
  for (; i < n; ++i) {
    x[i] *= scale;
    max = std::max(max, x[i]);
  }
  return max;
}

// exp_lanes' operations on 8 lanes.
struct ExpLanes {
  using Reg = __m256;
  using Int = __m256i;
  static Reg set1(float v) { return _mm256_set1_ps(v); }
  static Int set1i(int32_t v) { return _mm256_set1_epi32(v); }
  static Reg min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg fnmadd(Reg a, Reg b, Reg c) { return _mm256_fnmadd_ps(a, b, c); }
  static Reg round(Reg a) {
    return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static Int to_int(Reg a) { return _mm256_cvtps_epi32(a); }
  static Int half(Int a) { return _mm256_srai_epi32(a, 1); }
  static Int add_i(Int a, Int b) { return _mm256_add_epi32(a, b); }
  static Int sub_i(Int a, Int b) { return _mm256_sub_epi32(a, b); }
  static Reg as_exponent(Int a) { return _mm256_castsi256_ps(_mm256_slli_epi32(a, 23)); }
  static Reg zero_below(Reg x, Reg low, Reg v) {
    return _mm256_andnot_ps(_mm256_cmp_ps(x, low, _CMP_LT_OQ), v);
  }
};

__m256 exp_ps(__m256 x) {
  return exp_lanes<ExpLanes>(x);
}

double exp_shifted(float* x, int64_t n, float shift) {
  const __m256 vs = _mm256_set1_ps(shift);
  __m256d sum = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));
    _mm256_storeu_ps(x + i, e);
    sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, sum);
  double total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  if (i < n) {
    alignas(32) float tail[8] = {};
    for (int64_t k = i; k < n; ++k) tail[k - i] = x[k] - shift;
    _mm256_store_ps(tail, exp_ps(_mm256_load_ps(tail)));
    for (int64_t k = i; k < n; ++k) {
      x[k] = tail[k - i];
      total += x[k];
    }
  }
  return total;
}

void silu_mul(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
  const auto silu = [&](__m256 g, __m256 u) {
    const __m256 e = exp_ps(_mm256_xor_ps(g, sign));
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u);
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(gate + i, silu(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i < n) {
    alignas(32) float g[8] = {}, u[8] = {};
    for (int64_t k = i; k < n; ++k) {
      g[k - i] = gate[k];
      u[k - i] = up[k];
    }
    _mm256_store_ps(g, silu(_mm256_load_ps(g), _mm256_load_ps(u)));
    for (int64_t k = i; k < n; ++k) gate[k] = g[k - i];
  }
}

// Partials 0-3 in lo, 4-7 in hi.
void rms_norm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 sq = _mm256_mul_ps(v, v);
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(sq)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(sq, 1)));
  }
  alignas(32) double part[8];
  _mm256_store_pd(part, lo);
  _mm256_store_pd(part + 4, hi);
  for (; i < n; ++i) part[0] += static_cast<double>(x[i] * x[i]);
  const float scale = rms_scale(part, n, eps);
  const __m256 vs = _mm256_set1_ps(scale);
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs),
                                            _mm256_loadu_ps(weight + i)));
  for (; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

constexpr VecOps kAvx2 = {dot_f32_f16,      axpy_f16,     f32_to_f16,
                          dot_f32_q8_0,     axpy_q8_0,    scores_rows<Lanes, kMaxHeads>,
                          weighted_sum_f16, round_to_f16, scale_max,
                          exp_shifted,      silu_mul,     rms_norm};

}  // namespace

const VecOps* vec_ops_avx2() {
  return &kAvx2;
}

}  // namespace inferd::backend::cpu

// Small vector kernels: attention (f32 queries against f16 or Q8_0 KV-cache rows) and the
// elementwise work around the matmuls (softmax numerators, SwiGLU, RMSNorm), dispatched once at
// run time between a scalar reference, AVX2 versions and, where wider registers gain, AVX-512
// ones.
#pragma once

#include <cmath>
#include <cstdint>

#include "backend/cpu/blocks.h"
#include "base/cpu_features.h"
#include "base/half.h"

namespace inferd::backend::cpu {

struct VecOps {
  // sum_i a[i] * b[i]
  float (*dot_f32_f16)(const float* a, const f16_t* b, int64_t n);
  // y[i] += alpha * x[i]
  void (*axpy_f16)(float alpha, const f16_t* x, float* y, int64_t n);
  // dst[i] = f16(src[i]), round to nearest even
  void (*f32_to_f16)(const float* src, f16_t* dst, int64_t n);
  // sum_i a[i] * x[i] over n elements of Q8_0 blocks (n a multiple of 32)
  float (*dot_f32_q8_0)(const float* a, const BlockQ8_0* x, int64_t n);
  // y[i] += alpha * x[i] over n elements of Q8_0 blocks (n a multiple of 32)
  void (*axpy_q8_0)(float alpha, const BlockQ8_0* x, float* y, int64_t n);
  // Attention of `heads` query heads against the same n f16 rows of d elements, `stride` bytes
  // apart (the cached keys or values of the KV head they share); head h's query, probabilities,
  // scores and output start at q, p, out and y + h * (q_stride, p_stride, out_stride, y_stride):
  //   scores: out[j] = sum_i q[i] * row_j[i]; each row's sum is computed the same way whatever
  //           n is, so a row's score does not depend on the rows beside it;
  //   weighted_sum: y[i] += p[j] * row_j[i] for j = 0, 1, ..., n - 1 in that order (the axpy_f16
  //           of each row in turn).
  // Each head's results are those of the head alone, bit for bit; several heads at once share
  // each row's loads and conversions.
  void (*scores_f16)(const float* q, int64_t q_stride, int heads, const uint8_t* rows,
                     size_t stride, int64_t n, int64_t d, float* out, int64_t out_stride);
  void (*weighted_sum_f16)(const float* p, int64_t p_stride, int heads, const uint8_t* rows,
                           size_t stride, int64_t n, int64_t d, float* y, int64_t y_stride);
  // x[i] = f16_to_f32(f32_to_f16(x[i])): the value rounded to the nearest half.
  void (*round_to_f16)(float* x, int64_t n);
  // x[i] *= scale; returns the largest x[i], NaNs left out (-infinity when there is none).
  float (*scale_max)(float* x, int64_t n, float scale);
  // Softmax numerators: x[i] = exp(x[i] - shift); returns their sum, accumulated in double.
  double (*exp_shifted)(float* x, int64_t n, float shift);
  // SwiGLU: gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)).
  void (*silu_mul)(float* gate, const float* up, int64_t n);
  // RMSNorm: out[i] = x[i] * scale * weight[i], scale = 1 / sqrt(mean of the squares + eps);
  // out may alias x. The squares (each rounded to float) are summed in double in 8 interleaved
  // partial sums, element i in partial i % 8 (the tail past the last 8 in partial 0), then the
  // partial sums in order; every level gives the same bits.
  void (*rms_norm)(const float* x, const float* weight, int64_t n, float eps, float* out);
};
// The SIMD exp behind exp_shifted and silu_mul is within 2 ulp of std::exp (NaN stays NaN, an
// exponent below -87.3 gives 0); the AVX-512 versions give the AVX2 versions' bits.

const VecOps& vec_ops(IsaLevel level = cpu_features().level);

// rms_norm's scale from its 8 partial sums of squares (shared by every level).
inline float rms_scale(const double (&part)[8], int64_t n, float eps) {
  double sum_sq = 0.0;
  for (double p : part) sum_sq += p;
  const float mean = static_cast<float>(sum_sq / static_cast<double>(n));
  return 1.0f / std::sqrt(mean + eps);
}

// Per-level tables (nullptr when the level has none).
const VecOps* vec_ops_avx2();
const VecOps* vec_ops_avx512();

}  // namespace inferd::backend::cpu

#include "backend/cpu/vec_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace inferd::backend::cpu {
namespace {

float dot_f32_f16_ref(const float* a, const f16_t* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * f16_to_f32(b[i]);
  return sum;
}

void axpy_f16_ref(float alpha, const f16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * f16_to_f32(x[i]);
}

void f32_to_f16_ref(const float* src, f16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

float dot_f32_q8_0_ref(const float* a, const BlockQ8_0* x, int64_t n) {
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    float block = 0.0f;
    for (int i = 0; i < kQK; ++i) block += a[b * kQK + i] * static_cast<float>(x[b].qs[i]);
    sum += block * f16_to_f32(x[b].d);
  }
  return sum;
}

void axpy_q8_0_ref(float alpha, const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float scale = alpha * f16_to_f32(x[b].d);
    for (int i = 0; i < kQK; ++i) y[b * kQK + i] += scale * static_cast<float>(x[b].qs[i]);
  }
}

void scores_f16_ref(const float* q, int64_t q_stride, int heads, const uint8_t* rows, size_t stride,
                    int64_t n, int64_t d, float* out, int64_t out_stride) {
  for (int h = 0; h < heads; ++h)
    for (int64_t j = 0; j < n; ++j)
      out[h * out_stride + j] =
          dot_f32_f16_ref(q + h * q_stride, reinterpret_cast<const f16_t*>(rows + j * stride), d);
}

void weighted_sum_f16_ref(const float* p, int64_t p_stride, int heads, const uint8_t* rows,
                          size_t stride, int64_t n, int64_t d, float* y, int64_t y_stride) {
  for (int h = 0; h < heads; ++h)
    for (int64_t j = 0; j < n; ++j)
      axpy_f16_ref(p[h * p_stride + j], reinterpret_cast<const f16_t*>(rows + j * stride),
                   y + h * y_stride, d);
}

void round_to_f16_ref(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = f16_to_f32(f32_to_f16(x[i]));
}

float scale_max_ref(float* x, int64_t n, float scale) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    x[i] *= scale;
    max = std::max(max, x[i]);  // false for a NaN x[i]: it is left out
  }
  return max;
}

double exp_shifted_ref(float* x, int64_t n, float shift) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

void silu_mul_ref(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void rms_norm_ref(const float* x, const float* weight, int64_t n, float eps, float* out) {
  double part[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) part[k] += static_cast<double>(x[i + k] * x[i + k]);
  for (; i < n; ++i) part[0] += static_cast<double>(x[i] * x[i]);
  const float scale = rms_scale(part, n, eps);
  for (i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

constexpr VecOps kScalar = {dot_f32_f16_ref,      axpy_f16_ref,     f32_to_f16_ref,
                            dot_f32_q8_0_ref,     axpy_q8_0_ref,    scores_f16_ref,
                            weighted_sum_f16_ref, round_to_f16_ref, scale_max_ref,
                            exp_shifted_ref,      silu_mul_ref,     rms_norm_ref};

}  // namespace

const VecOps& vec_ops(IsaLevel level) {
  if (level >= IsaLevel::kAvx512) return *vec_ops_avx512();
  if (level >= IsaLevel::kAvx2)
    if (const VecOps* v = vec_ops_avx2()) return *v;
  return kScalar;
}

}  // namespace inferd::backend::cpu

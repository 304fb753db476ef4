// Normalisation and activation blocks shared by every architecture (plain loops; SwiGLU is
// backend::cpu::VecOps::silu_mul).
#pragma once

#include <cmath>
#include <cstdint>

namespace inferd::model {

// out = x / rms(x) * weight over n elements. out may alias x.
// The squares are summed in double in 8 interleaved partial sums (independent additions the
// processor overlaps), then the partial sums in order.
inline void rms_norm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  double part[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) part[k] += static_cast<double>(x[i + k] * x[i + k]);
  for (; i < n; ++i) part[0] += static_cast<double>(x[i] * x[i]);
  double sum_sq = 0.0;
  for (double p : part) sum_sq += p;
  const float mean = static_cast<float>(sum_sq / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

// gate[i] = gelu(gate[i]) * up[i], with the tanh approximation of GELU.
inline void gelu_tanh_mul(float* gate, const float* up, int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = 0.5f * g * (1.0f + std::tanh(kSqrt2OverPi * (g + 0.044715f * g * g * g))) * up[i];
  }
}

// x[i] = cap * tanh(x[i] / cap)
inline void soft_cap(float* x, int64_t n, float cap) {
  const float inv_cap = 1.0f / cap;
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] * inv_cap);
}

}  // namespace inferd::model

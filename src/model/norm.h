// Normalisation and activation blocks shared by every architecture (RMSNorm and SwiGLU are
// backend::cpu::VecOps kernels, the others plain loops).
#pragma once

#include <cmath>
#include <cstdint>

#include "backend/cpu/vec_ops.h"

namespace inferd::model {

// out = x / rms(x) * weight over n elements (VecOps::rms_norm, which states the summation
// order). out may alias x.
inline void rms_norm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  backend::cpu::vec_ops().rms_norm(x, weight, n, eps, out);
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

#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace inferd::model {
namespace {

// YaRN: the dimension index at which a frequency completes `rotations` turns over the original
// context (from the YaRN paper's correction range).
double yarn_correction_dim(double rotations, double n_rot, double base, double orig_ctx) {
  return n_rot * std::log(orig_ctx / (rotations * 2.0 * std::numbers::pi)) / (2.0 * std::log(base));
}

}  // namespace

Rope::Rope(const HParams& hp, float base, const float* freq_factors)
    : style_(hp.rope_style), n_rot_(hp.n_rot), inv_freq_(hp.n_rot / 2) {
  const int64_t half = n_rot_ / 2;
  double scaled_base = base;
  if (hp.rope_scaling == RopeScaling::kDynamic) {
    const double f = hp.rope_scale_factor;
    scaled_base *= std::pow(f * f - (f - 1.0), static_cast<double>(n_rot_) / (n_rot_ - 2));
  }
  for (int64_t i = 0; i < half; ++i) {
    double inv = std::pow(scaled_base, -2.0 * static_cast<double>(i) / n_rot_);
    if (freq_factors) inv /= freq_factors[i];
    inv_freq_[i] = static_cast<float>(inv);
  }
  const double factor = hp.rope_scale_factor;
  if (hp.rope_scaling == RopeScaling::kLinear) {
    for (auto& f : inv_freq_) f = static_cast<float>(f / factor);
  } else if (hp.rope_scaling == RopeScaling::kYarn) {
    // Blend interpolated (divided by factor) and extrapolated (unchanged) frequencies with a
    // linear ramp between the correction dimensions of beta_fast and beta_slow rotations.
    const double orig = static_cast<double>(hp.rope_orig_ctx);
    double low = std::floor(yarn_correction_dim(hp.yarn_beta_fast, n_rot_, base, orig));
    double high = std::ceil(yarn_correction_dim(hp.yarn_beta_slow, n_rot_, base, orig));
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(n_rot_ - 1));
    if (high == low) high += 0.001;
    for (int64_t i = 0; i < half; ++i) {
      const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
      const double extrapolation = 1.0 - ramp;
      const double f = inv_freq_[i];
      inv_freq_[i] = static_cast<float>(f / factor * (1.0 - extrapolation) + f * extrapolation);
    }
    mscale_ = hp.rope_attn_factor;
  } else if (hp.rope_scaling == RopeScaling::kLongRope) {
    mscale_ = hp.rope_attn_factor;
  }
}

void Rope::angles(int64_t pos, float* cs) const {
  const int64_t half = n_rot_ / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float theta = static_cast<float>(pos) * inv_freq_[i];
    cs[2 * i] = std::cos(theta) * mscale_;
    cs[2 * i + 1] = std::sin(theta) * mscale_;
  }
}

void Rope::apply(float* x, int64_t num_heads, int64_t head_dim, const float* cs) const {
  const int64_t half = n_rot_ / 2;
  for (int64_t h = 0; h < num_heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float c = cs[2 * i], s = cs[2 * i + 1];
      // kNormal rotates adjacent pairs, kNeox pairs i and i + half.
      float* a = style_ == RopeStyle::kNormal ? v + 2 * i : v + i;
      float* b = style_ == RopeStyle::kNormal ? v + 2 * i + 1 : v + i + half;
      const float x0 = *a, x1 = *b;
      *a = x0 * c - x1 * s;
      *b = x0 * s + x1 * c;
    }
  }
}

}  // namespace inferd::model

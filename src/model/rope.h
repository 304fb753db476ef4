// Rope: rotary position embedding for one base frequency, with the scaling variants of
// HParams (linear, YaRN, dynamic NTK, LongRoPE, per-dimension frequency factors) folded into one
// table of inverse frequencies and a magnitude scale. Immutable after construction; thread-safe.
//
// Scalings the reference implementation re-evaluates as a sequence grows are fixed here, because
// cached keys are never re-rotated:
// - dynamic (NTK-aware): the base is the reference's for a sequence of factor x rope_orig_ctx
//   tokens, base * (factor^2 - factor + 1)^(n_rot / (n_rot - 2)), for every position (as vLLM
//   does). Equal to the reference at that length; shorter sequences see the same, larger base.
// - LongRoPE: short or long factors are chosen once per model (see hf_config.cpp) and arrive as
//   `freq_factors`; rope_attn_factor scales cos and sin.
#pragma once

#include <cstdint>
#include <vector>

#include "model/arch.h"
#include "model/hparams.h"

namespace inferd::model {

class Rope {
 public:
  // `freq_factors` ([n_rot / 2], may be nullptr) divide the rotation angles (Llama 3 scaling).
  Rope(const HParams& hp, float base, const float* freq_factors);

  int64_t n_rot() const { return n_rot_; }
  // Inverse frequency of rotated pair i (radians per position), i < n_rot / 2.
  float inv_freq(int64_t i) const { return inv_freq_[i]; }
  // The factor cos and sin are multiplied by (YaRN, LongRoPE; 1 otherwise).
  float magnitude() const { return mscale_; }
  // Fills cs[0 .. n_rot) with (cos, sin) pairs of every rotated dimension pair at `pos`.
  void angles(int64_t pos, float* cs) const;
  // Rotates the first n_rot dimensions of each of `num_heads` heads of `x` (heads `head_dim`
  // apart) with angles from angles().
  void apply(float* x, int64_t num_heads, int64_t head_dim, const float* cs) const;

 private:
  RopeStyle style_;
  int64_t n_rot_;
  float mscale_ = 1.0f;
  std::vector<float> inv_freq_;  // [n_rot / 2]
};

}  // namespace inferd::model

// Rope: rotary position embedding for one base frequency, with the scaling variants of
// HParams (linear, YaRN, per-dimension frequency factors) folded into one table of inverse
// frequencies and a magnitude scale. Immutable after construction; thread-safe.
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

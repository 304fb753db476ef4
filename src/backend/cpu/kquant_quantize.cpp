// Round-to-nearest quantizers of the K-quant weight types (no importance weighting, no search):
// each group's scale (and min) is taken from its range, the super-block scales from the largest
// group scale, and every value is rounded to the nearest code under the scales as stored.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/blocks.h"
#include "backend/cpu/kquant_kernels.h"

namespace inferd::backend::cpu::kquant {
namespace {

// Nearest integer of v clamped to [lo, hi]; NaN gives lo.
int round_clamped(float v, int lo, int hi) {
  v = v > static_cast<float>(lo) ? v : static_cast<float>(lo);
  v = v < static_cast<float>(hi) ? v : static_cast<float>(hi);
  return static_cast<int>(std::nearbyint(v));
}

// The half nearest to v whose magnitude is not below |v| (same sign), so that scales derived
// from it never overflow their code range; 0 stays 0, values beyond the half range give inf.
f16_t half_at_least(float v) {
  f16_t h = f32_to_f16(v);
  if (std::fabs(f16_to_f32(h)) < std::fabs(v)) ++h;  // sign-magnitude: +1 is one ulp outwards
  return h;
}

// Asymmetric form x = d * sc[g] * q - dmin * m[g], q in [0, kMaxQ], sc and m in [0, kMaxScale],
// groups of kGroup elements (Q2_K, Q4_K, Q5_K).
template <int kGroup, int kMaxQ, int kMaxScale>
struct AsymmetricBlock {
  static constexpr int kGroups = kQK_K / kGroup;
  f16_t d = 0, dmin = 0;
  uint8_t sc[kGroups] = {}, m[kGroups] = {};
  uint8_t q[kQK_K] = {};

  explicit AsymmetricBlock(const float* x) {
    float lo[kGroups], hi[kGroups], step[kGroups];
    float max_step = 0, max_min = 0;
    for (int g = 0; g < kGroups; ++g) {
      lo[g] = 0;  // the offset only ever subtracts: a group of positive values keeps m = 0
      hi[g] = 0;
      for (int e = g * kGroup; e < (g + 1) * kGroup; ++e) {
        lo[g] = std::min(lo[g], x[e]);
        hi[g] = std::max(hi[g], x[e]);
      }
      step[g] = (hi[g] - lo[g]) / kMaxQ;
      max_step = std::max(max_step, step[g]);
      max_min = std::max(max_min, -lo[g]);
    }
    d = half_at_least(max_step / kMaxScale);
    dmin = half_at_least(max_min / kMaxScale);
    const float df = f16_to_f32(d), dmf = f16_to_f32(dmin);
    for (int g = 0; g < kGroups; ++g) {
      m[g] = dmf > 0 ? static_cast<uint8_t>(round_clamped(-lo[g] / dmf, 0, kMaxScale)) : 0;
      const float offset = dmf * m[g];
      // The step that lets the top of the group reach code kMaxQ under the stored offset, rounded
      // up (less 1%) so that the range stays covered.
      const float needed = (hi[g] + offset) / kMaxQ;
      sc[g] =
          df > 0 ? static_cast<uint8_t>(round_clamped(std::ceil(needed / df - 0.01f), 0, kMaxScale))
                 : 0;
      const float group_step = df * sc[g];
      for (int e = g * kGroup; e < (g + 1) * kGroup; ++e)
        q[e] = group_step > 0
                   ? static_cast<uint8_t>(round_clamped((x[e] + offset) / group_step, 0, kMaxQ))
                   : 0;
    }
  }
};

// Symmetric form x = d * sc[g] * q, q in [-kNegQ, kNegQ - 1], sc in [-kNegScale, kNegScale - 1],
// groups of 16 (Q3_K, Q6_K). The value of largest magnitude in a group maps to -kNegQ exactly,
// and the group of largest scale to -kNegScale, as far as the half-precision d allows.
template <int kNegQ, int kNegScale>
struct SymmetricBlock {
  f16_t d = 0;
  int8_t sc[16] = {};
  int8_t q[kQK_K] = {};

  explicit SymmetricBlock(const float* x) {
    float group_scale[16];
    float extreme = 0;
    for (int g = 0; g < 16; ++g) {
      float v = 0;
      for (int e = 16 * g; e < 16 * g + 16; ++e)
        if (std::fabs(x[e]) > std::fabs(v)) v = x[e];
      group_scale[g] = v / -kNegQ;
      if (std::fabs(group_scale[g]) > std::fabs(extreme)) extreme = group_scale[g];
    }
    d = half_at_least(extreme / -kNegScale);
    const float df = f16_to_f32(d);
    for (int g = 0; g < 16; ++g) {
      // Magnitude rounded up (less 1%): the group's extreme value then stays within the codes.
      const float ratio = df != 0 ? group_scale[g] / df : 0;
      const float magnitude = std::ceil(std::fabs(ratio) - 0.01f);
      sc[g] = static_cast<int8_t>(
          round_clamped(ratio < 0 ? -magnitude : magnitude, -kNegScale, kNegScale - 1));
      const float group_step = df * sc[g];
      for (int e = 16 * g; e < 16 * g + 16; ++e)
        q[e] = group_step != 0
                   ? static_cast<int8_t>(round_clamped(x[e] / group_step, -kNegQ, kNegQ - 1))
                   : 0;
    }
  }
};

void pack_k4_scales(const uint8_t* sc, const uint8_t* m, uint8_t* packed) {
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    packed[j + 4] = static_cast<uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    packed[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
}

void quantize_block(const float* x, BlockQ2_K* y) {
  const AsymmetricBlock<16, 3, 15> a(x);
  std::memset(y, 0, sizeof(*y));
  y->d = a.d;
  y->dmin = a.dmin;
  for (int g = 0; g < 16; ++g) y->scales[g] = static_cast<uint8_t>(a.sc[g] | (a.m[g] << 4));
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, j = (e % 128) / 32, l = e % 32;
    y->qs[32 * h + l] |= static_cast<uint8_t>(a.q[e] << (2 * j));
  }
}

void quantize_block(const float* x, BlockQ3_K* y) {
  const SymmetricBlock<4, 32> s(x);
  std::memset(y, 0, sizeof(*y));
  y->d = s.d;
  for (int k = 0; k < 16; ++k) {
    const int biased = s.sc[k] + 32;
    y->scales[k % 8] |= static_cast<uint8_t>((biased & 15) << (4 * (k / 8)));
    y->scales[8 + k % 4] |= static_cast<uint8_t>((biased >> 4) << (2 * (k / 4)));
  }
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, j = (e % 128) / 32, l = e % 32;
    const int biased = s.q[e] + 4;
    y->qs[32 * h + l] |= static_cast<uint8_t>((biased & 3) << (2 * j));
    y->hmask[l] |= static_cast<uint8_t>((biased >> 2) << (4 * h + j));
  }
}

void quantize_block(const float* x, BlockQ4_K* y) {
  const AsymmetricBlock<32, 15, 63> a(x);
  std::memset(y, 0, sizeof(*y));
  y->d = a.d;
  y->dmin = a.dmin;
  pack_k4_scales(a.sc, a.m, y->scales);
  for (int e = 0; e < kQK_K; ++e) {
    const int j = e / 64, t = (e % 64) / 32, l = e % 32;
    y->qs[32 * j + l] |= static_cast<uint8_t>(a.q[e] << (4 * t));
  }
}

void quantize_block(const float* x, BlockQ5_K* y) {
  const AsymmetricBlock<32, 31, 63> a(x);
  std::memset(y, 0, sizeof(*y));
  y->d = a.d;
  y->dmin = a.dmin;
  pack_k4_scales(a.sc, a.m, y->scales);
  for (int e = 0; e < kQK_K; ++e) {
    const int j = e / 64, t = (e % 64) / 32, l = e % 32;
    y->qs[32 * j + l] |= static_cast<uint8_t>((a.q[e] & 15) << (4 * t));
    y->qh[l] |= static_cast<uint8_t>((a.q[e] >> 4) << (2 * j + t));
  }
}

void quantize_block(const float* x, BlockQ6_K* y) {
  const SymmetricBlock<32, 128> s(x);
  std::memset(y, 0, sizeof(*y));
  y->d = s.d;
  for (int g = 0; g < 16; ++g) y->scales[g] = s.sc[g];
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, k = (e % 128) / 32, l = e % 32;
    const int biased = s.q[e] + 32;
    y->ql[64 * h + 32 * (k % 2) + l] |= static_cast<uint8_t>((biased & 15) << (4 * (k / 2)));
    y->qh[32 * h + l] |= static_cast<uint8_t>((biased >> 4) << (2 * k));
  }
}

template <class Block>
void from_float(const float* src, void* dst, int64_t n) {
  Block* blocks = static_cast<Block*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) quantize_block(src + b * kQK_K, &blocks[b]);
}

}  // namespace

void q2_k_from_float(const float* src, void* dst, int64_t n) {
  from_float<BlockQ2_K>(src, dst, n);
}
void q3_k_from_float(const float* src, void* dst, int64_t n) {
  from_float<BlockQ3_K>(src, dst, n);
}
void q4_k_from_float(const float* src, void* dst, int64_t n) {
  from_float<BlockQ4_K>(src, dst, n);
}
void q5_k_from_float(const float* src, void* dst, int64_t n) {
  from_float<BlockQ5_K>(src, dst, n);
}
void q6_k_from_float(const float* src, void* dst, int64_t n) {
  from_float<BlockQ6_K>(src, dst, n);
}

}  // namespace inferd::backend::cpu::kquant

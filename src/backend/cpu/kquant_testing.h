// Test helpers of the K-quant kernels (used by kquant_*_test.cpp only): random but valid blocks
// and activations, and the ISA levels this machine can run.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "backend/cpu/blocks.h"
#include "backend/cpu/type_ops.h"
#include "backend/dtype.h"
#include "base/cpu_features.h"
#include "base/half.h"

namespace inferd::backend::cpu::kquant::testing {

inline constexpr DType kWeightTypes[] = {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K,
                                         DType::kQ6_K};

// Levels up to the detected (and INFERD_CPU-capped) one.
inline std::vector<IsaLevel> runnable_levels() {
  std::vector<IsaLevel> levels;
  for (IsaLevel l : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512})
    if (l <= cpu_features().level) levels.push_back(l);
  return levels;
}

inline f16_t random_half(std::mt19937& rng, float lo, float hi, bool allow_negative) {
  float v = std::uniform_real_distribution<float>(lo, hi)(rng);
  if (allow_negative && (rng() & 1)) v = -v;
  return f32_to_f16(v);
}

// Every bit pattern of the packed fields is a valid block; only the half-precision scales must
// be finite. Q3_K and Q6_K files carry negative d as well.
inline void fix_scales(std::mt19937& rng, BlockQ2_K& b) {
  b.d = random_half(rng, 1e-3f, 1e-2f, false);
  b.dmin = random_half(rng, 1e-3f, 1e-2f, false);
}
inline void fix_scales(std::mt19937& rng, BlockQ3_K& b) {
  b.d = random_half(rng, 1e-3f, 1e-2f, true);
}
inline void fix_scales(std::mt19937& rng, BlockQ4_K& b) {
  b.d = random_half(rng, 1e-4f, 1e-3f, false);
  b.dmin = random_half(rng, 1e-4f, 1e-3f, false);
}
inline void fix_scales(std::mt19937& rng, BlockQ5_K& b) {
  b.d = random_half(rng, 1e-4f, 1e-3f, false);
  b.dmin = random_half(rng, 1e-4f, 1e-3f, false);
}
inline void fix_scales(std::mt19937& rng, BlockQ6_K& b) {
  b.d = random_half(rng, 1e-4f, 1e-3f, true);
}

template <class Block>
void randomize_rows(std::mt19937& rng, uint8_t* data, int rows, int64_t blocks_per_row,
                    size_t stride) {
  for (int r = 0; r < rows; ++r) {
    uint8_t* row = data + r * stride;
    for (size_t i = 0; i < stride; ++i) row[i] = static_cast<uint8_t>(rng());
    Block* blocks = reinterpret_cast<Block*>(row);
    for (int64_t b = 0; b < blocks_per_row; ++b) fix_scales(rng, blocks[b]);
  }
}

// Random bytes for `rows` rows of `type` (any K-quant weight type), `stride` bytes apart; bytes
// between rows are random too.
inline void random_weight_rows(std::mt19937& rng, DType type, uint8_t* data, int rows,
                               int64_t blocks_per_row, size_t stride) {
  switch (type) {
    case DType::kQ2_K: randomize_rows<BlockQ2_K>(rng, data, rows, blocks_per_row, stride); break;
    case DType::kQ3_K: randomize_rows<BlockQ3_K>(rng, data, rows, blocks_per_row, stride); break;
    case DType::kQ4_K: randomize_rows<BlockQ4_K>(rng, data, rows, blocks_per_row, stride); break;
    case DType::kQ5_K: randomize_rows<BlockQ5_K>(rng, data, rows, blocks_per_row, stride); break;
    case DType::kQ6_K: randomize_rows<BlockQ6_K>(rng, data, rows, blocks_per_row, stride); break;
    default: break;
  }
}

// Q8_K activation rows with int8 values over the full range (including -128) and matching sums.
inline void random_act_rows(std::mt19937& rng, uint8_t* data, int rows, int64_t blocks_per_row,
                            size_t stride) {
  for (int r = 0; r < rows; ++r) {
    uint8_t* row = data + r * stride;
    for (size_t i = 0; i < stride; ++i) row[i] = static_cast<uint8_t>(rng());
    BlockQ8_K* blocks = reinterpret_cast<BlockQ8_K*>(row);
    for (int64_t b = 0; b < blocks_per_row; ++b) {
      blocks[b].d = std::uniform_real_distribution<float>(0.001f, 0.1f)(rng);
      for (int g = 0; g < 16; ++g) {
        int sum = 0;
        for (int e = 16 * g; e < 16 * g + 16; ++e) sum += blocks[b].qs[e];
        blocks[b].bsums[g] = static_cast<int16_t>(sum);
      }
    }
  }
}

inline std::vector<float> gaussian(std::mt19937& rng, int64_t n, float sigma) {
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace inferd::backend::cpu::kquant::testing

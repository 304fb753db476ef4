#include "backend/mlx_affine.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"

namespace inferd::backend {
namespace {

struct TypeSpec {
  DType type;
  MlxAffineSpec spec;
};

constexpr TypeSpec kTypes[] = {
    {DType::kMlxQ4G32, {4, 32}}, {DType::kMlxQ4G64, {4, 64}}, {DType::kMlxQ4G128, {4, 128}},
    {DType::kMlxQ8G32, {8, 32}}, {DType::kMlxQ8G64, {8, 64}}, {DType::kMlxQ8G128, {8, 128}},
    {DType::kMlxQ2G32, {2, 32}}, {DType::kMlxQ2G64, {2, 64}}, {DType::kMlxQ2G128, {2, 128}},
    {DType::kMlxQ3G32, {3, 32}}, {DType::kMlxQ3G64, {3, 64}}, {DType::kMlxQ3G128, {3, 128}},
    {DType::kMlxQ5G32, {5, 32}}, {DType::kMlxQ5G64, {5, 64}}, {DType::kMlxQ5G128, {5, 128}},
    {DType::kMlxQ6G32, {6, 32}}, {DType::kMlxQ6G64, {6, 64}}, {DType::kMlxQ6G128, {6, 128}},
};

constexpr int kChunk = 32;  // codes per chunk

// ORs `value` (w bits) into code e's field of a zeroed plane.
void set_plane_field(uint8_t* plane, int w, int e, uint32_t value) {
  plane[e % (4 * w)] |= static_cast<uint8_t>(value << (w * (e / (4 * w))));
}

}  // namespace

std::optional<DType> mlx_affine_type(MlxAffineSpec spec) {
  for (const auto& t : kTypes)
    if (t.spec.bits == spec.bits && t.spec.group_size == spec.group_size) return t.type;
  return std::nullopt;
}

std::optional<DType> mlx_affine_load_type(MlxAffineSpec spec) {
  if (!mlx_affine_spec_valid(spec)) return std::nullopt;
  return mlx_affine_type(spec);
}

std::optional<MlxAffineSpec> mlx_affine_spec(DType type) {
  for (const auto& t : kTypes)
    if (t.type == type) return t.spec;
  return std::nullopt;
}

bool mlx_affine_spec_valid(MlxAffineSpec spec) {
  const bool bits_ok = spec.bits == 2 || spec.bits == 3 || spec.bits == 4 || spec.bits == 5 ||
                       spec.bits == 6 || spec.bits == 8;
  const bool group_ok = spec.group_size == 32 || spec.group_size == 64 || spec.group_size == 128;
  return bits_ok && group_ok;
}

uint32_t mlx_code(const uint8_t* stream, int64_t k, int bits) {
  const int64_t bit = k * bits;
  const uint8_t* p = stream + bit / 8;
  // A code of at most 8 bits spans at most two bytes.
  const uint32_t two = p[0] | ((bit % 8 + bits > 8) ? static_cast<uint32_t>(p[1]) << 8 : 0u);
  return (two >> (bit % 8)) & ((1u << bits) - 1u);
}

void mlx_pack_row(const uint8_t* codes, int code_bits, const float* scales, const float* biases,
                  int64_t cols, DType type, void* dst) {
  const auto spec = mlx_affine_spec(type);
  INFERD_CHECK(spec && cols % spec->group_size == 0 && code_bits >= 1 && code_bits <= spec->bits);
  const int g = spec->group_size;
  const size_t block_bytes = static_cast<size_t>(dtype_info(type).block_bytes);
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t gi = 0; gi < cols / g; ++gi) {
    uint8_t* block = out + gi * block_bytes;
    std::memcpy(block, &scales[gi], 4);
    std::memcpy(block + 4, &biases[gi], 4);
    const int64_t first = gi * g;
    const MlxChunkPlanes planes = mlx_chunk_planes(spec->bits);
    const uint32_t low_mask = (1u << planes.low_bits) - 1u;
    for (int c = 0; c < g / kChunk; ++c) {
      uint8_t* low = block + 8 + c * 4 * spec->bits;
      uint8_t* high = low + 4 * planes.low_bits;
      std::memset(low, 0, static_cast<size_t>(4 * spec->bits));
      for (int e = 0; e < kChunk; ++e) {
        const uint32_t code = mlx_code(codes, first + c * kChunk + e, code_bits);
        set_plane_field(low, planes.low_bits, e, code & low_mask);
        if (planes.high_bits > 0)
          set_plane_field(high, planes.high_bits, e, code >> planes.low_bits);
      }
    }
  }
}

void mlx_quantize_row(const float* w, int64_t cols, MlxAffineSpec spec, float (*round_param)(float),
                      uint8_t* codes, float* scales, float* biases) {
  INFERD_CHECK(mlx_affine_spec_valid(spec) && cols % spec.group_size == 0 &&
               cols * spec.bits % 32 == 0);
  const int g = spec.group_size;
  const uint32_t top = (1u << spec.bits) - 1u;
  std::memset(codes, 0, static_cast<size_t>(cols * spec.bits / 8));
  for (int64_t gi = 0; gi < cols / g; ++gi) {
    const float* x = w + gi * g;
    const auto [lo, hi] = std::minmax_element(x, x + g);
    float bias = round_param(*lo);
    float scale = round_param((*hi - bias) / static_cast<float>(top));
    if (!(scale > 0.0f) || !std::isfinite(scale)) scale = 0.0f;
    scales[gi] = scale;
    biases[gi] = bias;
    for (int k = 0; k < g; ++k) {
      float q = scale > 0.0f ? std::nearbyint((x[k] - bias) / scale) : 0.0f;
      q = std::clamp(q, 0.0f, static_cast<float>(top));
      const uint32_t code = static_cast<uint32_t>(q);
      const int64_t bit = (gi * g + k) * spec.bits;
      const uint32_t shifted = code << (bit % 8);
      codes[bit / 8] |= static_cast<uint8_t>(shifted);
      if (bit % 8 + spec.bits > 8) codes[bit / 8 + 1] |= static_cast<uint8_t>(shifted >> 8);
    }
  }
}

}  // namespace inferd::backend

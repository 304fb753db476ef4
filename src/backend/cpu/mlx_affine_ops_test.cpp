#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/kernel_testing.h"
#include "backend/cpu/type_ops.h"
#include "backend/mlx_affine.h"

namespace inferd::backend::cpu {
namespace {

constexpr DType kMlxTypes[] = {DType::kMlxQ4G32, DType::kMlxQ4G64, DType::kMlxQ4G128,
                               DType::kMlxQ8G32, DType::kMlxQ8G64, DType::kMlxQ8G128};

float identity(float v) {
  return v;
}

TEST(MlxAffine, TypesAreInMemoryOnly) {
  for (DType t : kMlxTypes) {
    const auto spec = mlx_affine_spec(t);
    ASSERT_TRUE(spec.has_value());
    EXPECT_EQ(mlx_affine_type(*spec), t);
    EXPECT_EQ(dtype_info(t).block_elems, spec->group_size);
    EXPECT_EQ(dtype_info(t).block_bytes, 8 + spec->group_size * spec->bits / 8);
    EXPECT_FALSE(dtype_info(static_cast<uint32_t>(t)).has_value()) << "GGUF must not accept it";
    EXPECT_TRUE(dtype_info(t).computable);
  }
  EXPECT_FALSE(mlx_affine_type({3, 64}).has_value());
  EXPECT_EQ(mlx_affine_load_type({3, 64}), DType::kMlxQ8G64);
  EXPECT_EQ(mlx_affine_load_type({6, 32}), DType::kMlxQ8G32);
  EXPECT_EQ(mlx_affine_load_type({4, 128}), DType::kMlxQ4G128);
  EXPECT_FALSE(mlx_affine_load_type({7, 64}).has_value());
  EXPECT_TRUE(mlx_affine_spec_valid({3, 64}));
  EXPECT_FALSE(mlx_affine_spec_valid({7, 64}));
  EXPECT_FALSE(mlx_affine_spec_valid({4, 16}));
}

// Codes are an LSB-first bit stream: known words decode as MLX documents them.
TEST(MlxAffine, ReadsLsbFirstCodes) {
  const uint32_t word = 0x76543210u;  // 4-bit codes 0, 1, 2, ..., 7
  const auto* bytes = reinterpret_cast<const uint8_t*>(&word);
  for (int k = 0; k < 8; ++k) EXPECT_EQ(mlx_code(bytes, k, 4), static_cast<uint32_t>(k));
  const uint32_t two_bit = 0b11100100u;  // 2-bit codes 0, 1, 2, 3
  for (int k = 0; k < 4; ++k)
    EXPECT_EQ(mlx_code(reinterpret_cast<const uint8_t*>(&two_bit), k, 2), static_cast<uint32_t>(k));
  // 3-bit codes straddle bytes: codes 5, 6, 7 at bits 0, 3, 6 (the last spans bytes 0 and 1).
  const uint8_t three[2] = {static_cast<uint8_t>(5 | 6 << 3 | (7 << 6)),
                            static_cast<uint8_t>(7 >> 2)};
  EXPECT_EQ(mlx_code(three, 0, 3), 5u);
  EXPECT_EQ(mlx_code(three, 1, 3), 6u);
  EXPECT_EQ(mlx_code(three, 2, 3), 7u);
}

// Quantizing to the MLX layout bounds the error by half a step for every bit width, and the
// repacked blocks decode to exactly fmaf(s, q, b) of the stream's codes.
TEST(MlxAffine, QuantizeRoundTripsThroughBlocks) {
  const int64_t cols = 384;
  const std::vector<float> w = testing::random_floats(cols, 7);
  for (int bits : {2, 3, 4, 5, 6, 8})
    for (int group : {32, 64, 128}) {
      const MlxAffineSpec spec{bits, group};
      std::vector<uint8_t> codes(cols * bits / 8);
      std::vector<float> scales(cols / group), biases(cols / group);
      mlx_quantize_row(w.data(), cols, spec, identity, codes.data(), scales.data(), biases.data());
      std::vector<float> deq(cols);
      for (int64_t k = 0; k < cols; ++k) {
        const uint32_t q = mlx_code(codes.data(), k, bits);
        ASSERT_LT(q, 1u << bits);
        deq[k] = std::fmaf(scales[k / group], static_cast<float>(q), biases[k / group]);
        EXPECT_LE(std::fabs(deq[k] - w[k]), 0.5f * scales[k / group] * 1.001f + 1e-6f)
            << bits << "-bit g" << group << " at " << k;
      }
      // 2, 3, 5 and 6-bit codes load widened into the 8-bit blocks of the same group size.
      const auto type = mlx_affine_load_type(spec);
      ASSERT_TRUE(type.has_value());
      EXPECT_EQ(mlx_affine_spec(*type)->bits, bits == 4 ? 4 : 8);
      std::vector<uint8_t> blocks(dtype_bytes(*type, cols));
      mlx_pack_row(codes.data(), bits, scales.data(), biases.data(), cols, *type, blocks.data());
      std::vector<float> out(cols);
      type_ops(*type, IsaLevel::kScalar).to_float(blocks.data(), out.data(), cols);
      for (int64_t k = 0; k < cols; ++k) ASSERT_EQ(out[k], deq[k]) << dtype_name(*type) << " " << k;
    }
}

TEST(MlxAffine, GemmMatchesExactDotsOnOddShapes) {
  for (DType type : kMlxTypes)
    for (IsaLevel level : testing::available_levels()) {
      const TypeOps& ops = type_ops(type, level);
      const int g = dtype_info(type).block_elems;
      uint32_t seed = 11;
      for (int64_t cols : {int64_t{g}, int64_t{3 * g}, int64_t{7 * g}})
        for (int rows = 1; rows <= ops.max_rows; ++rows)
          for (int acts = 1; acts <= ops.max_acts; ++acts)
            testing::check_gemm(ops, level, cols, rows, acts, seed++);
    }
}

// The SIMD kernels of every level agree with the scalar reference up to float summation order:
// both compute the same exact integer sums per 32-element block and differ only in how the block
// terms (s * dx) * sum(q * a) and b * dx * sum(a) are added in float. Recursive summation of
// m terms errs by at most m * 2^-24 * (sum of their magnitudes), so the bound is that with
// m = 2 * (blocks + 16) per side, over the magnitudes |s q| + |b| of every element.
TEST(MlxAffine, SimdMatchesReference) {
  for (DType type : kMlxTypes)
    for (IsaLevel level : testing::available_levels()) {
      const TypeOps& ref = type_ops(type, IsaLevel::kScalar);
      const TypeOps& simd = type_ops(type, level);
      ASSERT_EQ(simd.act_type, DType::kQ8_0);
      const TypeOps& q8 = type_ops(DType::kQ8_0, IsaLevel::kScalar);
      const int g = dtype_info(type).block_elems;
      uint32_t seed = 3;
      for (int64_t cols : {int64_t{g}, int64_t{2 * g}, int64_t{5 * g}, int64_t{11 * g}}) {
        const size_t stride = dtype_bytes(type, cols) + 12;
        const size_t a_stride = dtype_bytes(DType::kQ8_0, cols) + 6;
        const int rows = simd.max_rows, acts = simd.max_acts;
        const auto wf = testing::random_floats(rows * cols, seed++);
        const auto xf = testing::random_floats(acts * cols, seed++);
        const auto w = testing::encode_rows(ref, wf.data(), rows, cols, stride);
        const auto x = testing::encode_rows(q8, xf.data(), acts, cols, a_stride);
        std::vector<float> want(rows * acts), got(rows * acts);
        ref.gemm(cols, w.data(), stride, rows, x.data(), a_stride, acts, want.data(), rows);
        simd.gemm(cols, w.data(), stride, rows, x.data(), a_stride, acts, got.data(), rows);
        const auto wd = testing::decode_rows(ref, w.data(), rows, cols, stride);
        const auto xd = testing::decode_rows(q8, x.data(), acts, cols, a_stride);
        const double terms = 2.0 * (static_cast<double>(cols) / 32 + 16);
        for (int j = 0; j < acts; ++j)
          for (int i = 0; i < rows; ++i) {
            double magnitude = 0.0;
            for (int64_t k = 0; k < cols; ++k) {
              float bias;
              std::memcpy(&bias, w.data() + i * stride + (k / g) * dtype_info(type).block_bytes + 4,
                          4);
              const double wk = wd[i * cols + k];
              magnitude += (std::fabs(wk - bias) + std::fabs(bias)) * std::fabs(xd[j * cols + k]);
            }
            EXPECT_NEAR(got[j * rows + i], want[j * rows + i],
                        2.0 * terms * std::ldexp(1.0, -24) * magnitude)
                << dtype_name(type) << " " << isa_level_name(level) << " cols " << cols << " row "
                << i << " act " << j;
          }
      }
    }
}

// Codes at the top of the 8-bit range times the largest activations: pair sums of 255 * 127
// exceed 16 bits, which the kernels must not saturate. Every group maps 0 to code 0 and 1 to
// code 255 (scale 1/255, bias 0); every activation is 127 * (1/127).
TEST(MlxAffine, LargestEightBitCodesDoNotSaturate) {
  for (DType type : {DType::kMlxQ8G32, DType::kMlxQ8G64, DType::kMlxQ8G128})
    for (IsaLevel level : testing::available_levels()) {
      const TypeOps& ops = type_ops(type, level);
      const int64_t cols = 3 * 128;
      const size_t stride = dtype_bytes(type, cols);
      std::vector<float> wf(ops.max_rows * cols, 1.0f);
      for (int64_t k = 0; k < ops.max_rows * cols; k += 32) wf[k] = 0.0f;  // code 0, 31 x 255
      const std::vector<float> xf(ops.max_acts * cols, 1.0f);
      const auto w = testing::encode_rows(ops, wf.data(), ops.max_rows, cols, stride);
      const TypeOps& q8 = type_ops(DType::kQ8_0, IsaLevel::kScalar);
      const size_t a_stride = dtype_bytes(DType::kQ8_0, cols);
      const auto x = testing::encode_rows(q8, xf.data(), ops.max_acts, cols, a_stride);
      std::vector<float> out(ops.max_rows * ops.max_acts);
      ops.gemm(cols, w.data(), stride, ops.max_rows, x.data(), a_stride, ops.max_acts, out.data(),
               ops.max_rows);
      for (float v : out)
        EXPECT_NEAR(v, cols - cols / 32, 1e-3 * cols)
            << dtype_name(type) << " " << isa_level_name(level);
    }
}

}  // namespace
}  // namespace inferd::backend::cpu

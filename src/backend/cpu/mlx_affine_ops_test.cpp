#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/kernel_testing.h"
#include "backend/cpu/type_ops.h"
#include "backend/mlx_affine.h"

namespace inferd::backend::cpu {
namespace {

constexpr DType kMlxTypes[] = {
    DType::kMlxQ4G32,  DType::kMlxQ4G64,  DType::kMlxQ4G128, DType::kMlxQ8G32,  DType::kMlxQ8G64,
    DType::kMlxQ8G128, DType::kMlxQ2G32,  DType::kMlxQ2G64,  DType::kMlxQ2G128, DType::kMlxQ3G32,
    DType::kMlxQ3G64,  DType::kMlxQ3G128, DType::kMlxQ5G32,  DType::kMlxQ5G64,  DType::kMlxQ5G128,
    DType::kMlxQ6G32,  DType::kMlxQ6G64,  DType::kMlxQ6G128};

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
  // Every valid spec loads into its own type, codes at the file's width.
  for (int bits : {2, 3, 4, 5, 6, 8})
    for (int group : {32, 64, 128}) {
      const auto type = mlx_affine_load_type({bits, group});
      ASSERT_TRUE(type.has_value()) << bits << "-bit g" << group;
      EXPECT_EQ(mlx_affine_spec(*type)->bits, bits);
      EXPECT_EQ(mlx_affine_spec(*type)->group_size, group);
    }
  EXPECT_EQ(mlx_affine_load_type({3, 64}), DType::kMlxQ3G64);
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
      // Into the spec's own type, and widened into the 8-bit type of the same group size.
      for (DType type : {*mlx_affine_load_type(spec), *mlx_affine_type({8, group})}) {
        std::vector<uint8_t> blocks(dtype_bytes(type, cols));
        mlx_pack_row(codes.data(), bits, scales.data(), biases.data(), cols, type, blocks.data());
        std::vector<float> out(cols);
        type_ops(type, IsaLevel::kScalar).to_float(blocks.data(), out.data(), cols);
        for (int64_t k = 0; k < cols; ++k)
          ASSERT_EQ(out[k], deq[k]) << bits << "-bit into " << dtype_name(type) << " at " << k;
      }
    }
}

// The block layout of mlx_affine.h, byte for byte: per 32 codes the low-bit plane, then the
// high-bit plane; a w-bit plane's byte j holds the codes j, j + 4w, j + 8w, ... from its low bits.
TEST(MlxAffine, PacksCodesIntoDocumentedBitPlanes) {
  struct Case {
    int bits;
    int low_bits, high_bits;
  };
  for (const Case c : {Case{2, 2, 0}, Case{3, 2, 1}, Case{5, 4, 1}, Case{6, 4, 2}}) {
    const MlxChunkPlanes planes = mlx_chunk_planes(c.bits);
    EXPECT_EQ(planes.low_bits, c.low_bits);
    EXPECT_EQ(planes.high_bits, c.high_bits);
    const int64_t cols = 64;
    // Code e = (5 * e + 3) mod 2^bits, as an MLX stream.
    std::vector<uint32_t> want(cols);
    std::vector<uint8_t> stream(cols * c.bits / 8, 0);
    for (int64_t e = 0; e < cols; ++e) {
      want[e] = static_cast<uint32_t>(5 * e + 3) & ((1u << c.bits) - 1u);
      for (int b = 0; b < c.bits; ++b)
        if (want[e] >> b & 1u) stream[(e * c.bits + b) / 8] |= 1u << ((e * c.bits + b) % 8);
    }
    const std::vector<float> scales{0.5f}, biases{-1.0f};
    const DType type = *mlx_affine_type({c.bits, 64});
    std::vector<uint8_t> block(dtype_bytes(type, cols));
    ASSERT_EQ(block.size(), 8u + 64u * c.bits / 8);
    mlx_pack_row(stream.data(), c.bits, scales.data(), biases.data(), cols, type, block.data());
    float s, b;
    std::memcpy(&s, block.data(), 4);
    std::memcpy(&b, block.data() + 4, 4);
    EXPECT_EQ(s, 0.5f);
    EXPECT_EQ(b, -1.0f);
    for (int chunk = 0; chunk < 2; ++chunk) {
      const uint8_t* low = block.data() + 8 + chunk * 4 * c.bits;
      const uint8_t* high = low + 4 * c.low_bits;
      std::vector<uint8_t> want_low(4 * c.low_bits, 0), want_high(4 * c.high_bits, 0);
      for (int e = 0; e < 32; ++e) {
        const uint32_t q = want[chunk * 32 + e];
        want_low[e % (4 * c.low_bits)] |= (q & ((1u << c.low_bits) - 1u))
                                          << (c.low_bits * (e / (4 * c.low_bits)));
        if (c.high_bits > 0)
          want_high[e % (4 * c.high_bits)] |= (q >> c.low_bits)
                                              << (c.high_bits * (e / (4 * c.high_bits)));
        EXPECT_EQ(mlx_chunk_code(low, c.bits, e), q) << c.bits << "-bit code " << chunk * 32 + e;
      }
      EXPECT_EQ(std::vector<uint8_t>(low, low + want_low.size()), want_low) << c.bits;
      EXPECT_EQ(std::vector<uint8_t>(high, high + want_high.size()), want_high) << c.bits;
    }
  }
  // Hand-checked 3-bit chunk: codes e % 8. Byte j of the 2-bit plane holds codes j, j + 8,
  // j + 16, j + 24 (all equal to j), the 1-bit plane's byte j bit i holds bit 2 of code j + 4i.
  std::vector<uint8_t> stream(12, 0);
  for (int e = 0; e < 32; ++e)
    for (int b = 0; b < 3; ++b)
      if ((e % 8) >> b & 1) stream[(e * 3 + b) / 8] |= 1u << ((e * 3 + b) % 8);
  const std::vector<float> one{1.0f}, zero{0.0f};
  std::vector<uint8_t> block(dtype_bytes(DType::kMlxQ3G32, 32));
  mlx_pack_row(stream.data(), 3, one.data(), zero.data(), 32, DType::kMlxQ3G32, block.data());
  const std::vector<uint8_t> want{0x00, 0x55, 0xaa, 0xff, 0x00, 0x55,
                                  0xaa, 0xff, 0xaa, 0xaa, 0xaa, 0xaa};
  EXPECT_EQ(std::vector<uint8_t>(block.begin() + 8, block.end()), want);
}

// Codes at their own width give bit for bit the results of the same codes widened into the 8-bit
// type (the layout inferd loaded 2/3/5/6-bit files into before they had their own types): both
// reference kernels form the same integer sums per block and add the same float terms in order.
TEST(MlxAffine, OwnWidthMatchesWidenedCodesExactly) {
  for (DType type : kMlxTypes) {
    const MlxAffineSpec spec = *mlx_affine_spec(type);
    if (spec.bits == 4 || spec.bits == 8) continue;
    const DType wide = *mlx_affine_type({8, spec.group_size});
    const TypeOps& ops = type_ops(type, IsaLevel::kScalar);
    const TypeOps& wide_ops = type_ops(wide, IsaLevel::kScalar);
    const TypeOps& q8 = type_ops(DType::kQ8_0, IsaLevel::kScalar);
    const int64_t cols = 5 * spec.group_size;
    const int rows = 3, acts = 2;
    const auto wf = testing::random_floats(rows * cols, 21);
    const auto xf = testing::random_floats(acts * cols, 22);
    const size_t stride = dtype_bytes(type, cols), wide_stride = dtype_bytes(wide, cols);
    std::vector<uint8_t> w(rows * stride), w_wide(rows * wide_stride);
    for (int r = 0; r < rows; ++r) {
      std::vector<uint8_t> codes(cols * spec.bits / 8);
      std::vector<float> scales(cols / spec.group_size), biases(cols / spec.group_size);
      mlx_quantize_row(wf.data() + r * cols, cols, spec, identity, codes.data(), scales.data(),
                       biases.data());
      mlx_pack_row(codes.data(), spec.bits, scales.data(), biases.data(), cols, type,
                   w.data() + r * stride);
      mlx_pack_row(codes.data(), spec.bits, scales.data(), biases.data(), cols, wide,
                   w_wide.data() + r * wide_stride);
    }
    const size_t a_stride = dtype_bytes(DType::kQ8_0, cols);
    const auto x = testing::encode_rows(q8, xf.data(), acts, cols, a_stride);
    std::vector<float> got(rows * acts), want(rows * acts);
    ops.gemm(cols, w.data(), stride, rows, x.data(), a_stride, acts, got.data(), rows);
    wide_ops.gemm(cols, w_wide.data(), wide_stride, rows, x.data(), a_stride, acts, want.data(),
                  rows);
    for (int i = 0; i < rows * acts; ++i)
      EXPECT_EQ(got[i], want[i]) << dtype_name(type) << " " << i;
  }
}

// Memory: codes keep the file's width, so a b-bit group takes 8 + group * b / 8 bytes where the
// 8-bit widening took 8 + group; the code bytes are exactly b / 8 of the widening's.
TEST(MlxAffine, OwnWidthStoresCodesAtTheirWidth) {
  for (DType type : kMlxTypes) {
    const MlxAffineSpec spec = *mlx_affine_spec(type);
    const int64_t cols = 4096, groups = cols / spec.group_size;
    const int64_t own = dtype_bytes(type, cols);
    const int64_t wide = dtype_bytes(*mlx_affine_type({8, spec.group_size}), cols);
    EXPECT_EQ((own - 8 * groups) * 8, (wide - 8 * groups) * spec.bits) << dtype_name(type);
  }
  // 3-bit group 64: 32 bytes per group instead of 72.
  EXPECT_EQ(dtype_bytes(DType::kMlxQ3G64, 64), 32);
  EXPECT_EQ(dtype_bytes(DType::kMlxQ6G64, 64), 56);
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

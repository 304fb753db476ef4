#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/cpu/blocks.h"
#include "backend/cpu/kernel_testing.h"
#include "backend/cpu/type_ops.h"

namespace inferd::backend::cpu {
namespace {

constexpr DType kLegacyTypes[] = {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                                  DType::kQ8_0};

const TypeOps& reference(DType type) {
  return *legacy_type_ops(type, IsaLevel::kScalar);
}

std::vector<float> decode(DType type, const void* block) {
  std::vector<float> out(kQK);
  reference(type).to_float(block, out.data(), kQK);
  return out;
}

TEST(LegacyOps, EveryTypeHasAReferenceAndQ8_0Activations) {
  for (DType type : kLegacyTypes) {
    const TypeOps* ops = legacy_type_ops(type, IsaLevel::kScalar);
    ASSERT_NE(ops, nullptr) << dtype_name(type);
    EXPECT_EQ(ops->type, type);
    EXPECT_EQ(ops->act_type, DType::kQ8_0);
    for (IsaLevel level : testing::available_levels()) {
      const TypeOps& best = type_ops(type, level);
      EXPECT_EQ(best.type, type);
      EXPECT_EQ(best.act_type, DType::kQ8_0);
      EXPECT_GE(best.max_rows, 1);
      EXPECT_GE(best.max_acts, 1);
    }
  }
}

// Decoding follows the block layouts of blocks.h, checked on hand-made blocks.
TEST(LegacyOps, DecodesKnownBlocks) {
  BlockQ4_0 q4_0{};
  q4_0.d = f32_to_f16(0.5f);
  for (int j = 0; j < 16; ++j) q4_0.qs[j] = static_cast<uint8_t>(j | (15 - j) << 4);
  std::vector<float> x = decode(DType::kQ4_0, &q4_0);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(x[j], 0.5f * (j - 8));
    EXPECT_EQ(x[j + 16], 0.5f * (7 - j));
  }

  BlockQ4_1 q4_1{};
  q4_1.d = f32_to_f16(2.0f);
  q4_1.m = f32_to_f16(-3.0f);
  for (int j = 0; j < 16; ++j) q4_1.qs[j] = static_cast<uint8_t>(j | (15 - j) << 4);
  x = decode(DType::kQ4_1, &q4_1);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(x[j], 2.0f * j - 3.0f);
    EXPECT_EQ(x[j + 16], 2.0f * (15 - j) - 3.0f);
  }

  // Q5: element i takes bit i of qh (little-endian) as its fifth bit.
  BlockQ5_0 q5_0{};
  q5_0.d = f32_to_f16(0.25f);
  const uint32_t qh = 0x8000'0001u | 1u << 17;  // elements 0, 17 and 31
  std::memcpy(q5_0.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) q5_0.qs[j] = static_cast<uint8_t>(3 | 5 << 4);
  x = decode(DType::kQ5_0, &q5_0);
  for (int i = 0; i < 32; ++i) {
    const int low = i < 16 ? 3 : 5;
    const int high = (i == 0 || i == 17 || i == 31) ? 16 : 0;
    EXPECT_EQ(x[i], 0.25f * (low + high - 16)) << i;
  }

  BlockQ5_1 q5_1{};
  q5_1.d = f32_to_f16(1.0f);
  q5_1.m = f32_to_f16(0.5f);
  std::memcpy(q5_1.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) q5_1.qs[j] = static_cast<uint8_t>(15 | 0 << 4);
  x = decode(DType::kQ5_1, &q5_1);
  for (int i = 0; i < 32; ++i) {
    const int q = (i < 16 ? 15 : 0) + ((i == 0 || i == 17 || i == 31) ? 16 : 0);
    EXPECT_EQ(x[i], q + 0.5f) << i;
  }

  BlockQ8_0 q8{};
  q8.d = f32_to_f16(-0.125f);
  for (int i = 0; i < 32; ++i) q8.qs[i] = static_cast<int8_t>(i * 8 - 128);
  x = decode(DType::kQ8_0, &q8);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(x[i], -0.125f * (i * 8 - 128));
}

// Round-trip error bound per element, in units of the block's stored scale d:
// - Q4_1, Q5_1, Q8_0 round to the nearest level: 0.5 d. The stored (half) scale and minimum can
//   be smaller than the exact ones by a relative 2^-11, which can push the extreme values past
//   the top level by 0.06 d at most (Q8_0: 127 * 2^-11 levels) and the minimum below level 0 by
//   2^-11 |m|: hence 0.5 d (1 + 2^-4) + 2^-10 |m|.
// - Q4_0, Q5_0 map the largest magnitude to the bottom level (-8 or -16), so a value of the
//   opposite sign and the same magnitude lands one level above the top level: 1 d.
double step_bound(DType type) {
  return type == DType::kQ4_0 || type == DType::kQ5_0 ? 1.0 : 0.5 * (1.0 + 1.0 / 16);
}

TEST(LegacyOps, RoundTripIsWithinOneQuantizationStep) {
  for (DType type : kLegacyTypes) {
    const TypeOps& ops = reference(type);
    const DTypeInfo& info = dtype_info(type);
    const int64_t n = 64 * kQK;
    std::vector<float> x = testing::random_floats(n, 7);
    for (int i = 0; i < kQK; ++i) x[i] = 0.0f;                       // all-zero block
    for (int i = kQK; i < 2 * kQK; ++i) x[i] = -1.5f;                // constant block
    for (int i = 2 * kQK; i < 3 * kQK; ++i) x[i] = 1e-9f * (i % 7);  // scale below half range
    std::vector<uint8_t> q(dtype_bytes(type, n));
    ops.from_float(x.data(), q.data(), n);
    std::vector<float> y(n);
    ops.to_float(q.data(), y.data(), n);
    for (int64_t b = 0; b < n / kQK; ++b) {
      const uint8_t* block = q.data() + b * info.block_bytes;
      f16_t dh, mh = 0;
      std::memcpy(&dh, block, 2);
      if (type == DType::kQ4_1 || type == DType::kQ5_1) std::memcpy(&mh, block + 2, 2);
      const double d = std::fabs(f16_to_f32(dh)), m = std::fabs(f16_to_f32(mh));
      for (int64_t i = b * kQK; i < (b + 1) * kQK; ++i) {
        // Half scales cannot resolve blocks below ~1e-7; those decode to (nearly) zero.
        const double tol = step_bound(type) * d + std::ldexp(m, -10) + 1e-6;
        EXPECT_NEAR(y[i], x[i], tol) << dtype_name(type) << " element " << i;
      }
    }
    for (int i = 0; i < kQK; ++i) EXPECT_EQ(y[i], 0.0f) << dtype_name(type);
    for (int i = kQK; i < 2 * kQK; ++i) EXPECT_NEAR(y[i], -1.5f, 1e-3) << dtype_name(type);
  }
}

// Activations are quantized by whichever Q8_0 from_float the ISA level selects; all of them
// must produce the reference's bytes exactly, including for non-finite input.
TEST(LegacyOps, FastQ8_0QuantizationIsBitIdentical) {
  const int64_t n = 97 * kQK;
  std::vector<float> x = testing::random_floats(n, 11);
  x[5] = std::numeric_limits<float>::quiet_NaN();
  x[40] = std::numeric_limits<float>::infinity();
  x[70] = -std::numeric_limits<float>::quiet_NaN();
  for (int i = 96; i < 128; ++i) x[i] = 0.0f;
  for (int i = 128; i < 160; ++i) x[i] = 1e-12f * i;         // scale underflows in half
  for (int i = 160; i < 192; ++i) x[i] = 3e-6f * (i - 176);  // subnormal half scale
  for (int i = 192; i < 224; ++i) x[i] = 1e7f * (i - 200);   // scale overflows half
  for (int i = 224; i < 256; ++i) x[i] = (i % 2 ? 1.0f : -1.0f) * (i - 224) * 0.5f;  // ties
  std::vector<uint8_t> want(dtype_bytes(DType::kQ8_0, n));
  reference(DType::kQ8_0).from_float(x.data(), want.data(), n);
  for (IsaLevel level : testing::available_levels()) {
    const TypeOps& ops = type_ops(DType::kQ8_0, level);
    for (int64_t len : {int64_t{kQK}, 3 * int64_t{kQK}, n}) {
      std::vector<uint8_t> got(dtype_bytes(DType::kQ8_0, len) + 1, 0x5A);
      ops.from_float(x.data(), got.data(), len);
      EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() - 1))
          << isa_level_name(level) << " n " << len;
      EXPECT_EQ(got.back(), 0x5A) << "wrote past the end";
    }
  }
}

// Every type at every ISA level this CPU runs, on shapes from one block to many (odd block
// counts leave a half-used vector), every tile size up to the kernel's limits.
TEST(LegacyOps, GemmMatchesExactDotProducts) {
  uint32_t seed = 100;
  for (DType type : kLegacyTypes) {
    for (IsaLevel level : testing::available_levels()) {
      const TypeOps* ops = legacy_type_ops(type, level);
      if (!ops) continue;
      for (int64_t cols : {32, 64, 96, 352, 1056}) {
        for (int rows = 1; rows <= ops->max_rows; ++rows) {
          for (int acts = 1; acts <= ops->max_acts; ++acts) {
            testing::check_gemm(*ops, level, cols, rows, acts, ++seed);
          }
        }
      }
    }
  }
}

TEST(LegacyOps, GemmOnLongRows) {
  uint32_t seed = 500;
  for (DType type : kLegacyTypes) {
    for (IsaLevel level : testing::available_levels()) {
      const TypeOps* ops = legacy_type_ops(type, level);
      if (!ops) continue;
      testing::check_gemm(*ops, level, 5632, ops->max_rows, 1, ++seed);
      testing::check_gemm(*ops, level, 5632 + 32, 3, ops->max_acts, ++seed);
    }
  }
}

}  // namespace
}  // namespace inferd::backend::cpu

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/cpu/kernel_testing.h"
#include "backend/cpu/type_ops.h"
#include "base/half.h"

namespace inferd::backend::cpu {
namespace {

constexpr DType kFloatTypes[] = {DType::kF32, DType::kF16, DType::kBF16};

TEST(FloatOps, EveryTypeHasAReferenceAndF32Activations) {
  for (DType type : kFloatTypes) {
    const TypeOps* ops = float_type_ops(type, IsaLevel::kScalar);
    ASSERT_NE(ops, nullptr) << dtype_name(type);
    EXPECT_EQ(ops->act_type, DType::kF32);
    for (IsaLevel level : testing::available_levels())
      EXPECT_EQ(type_ops(type, level).act_type, DType::kF32);
  }
}

// Conversions at every level equal base/half.h bit for bit (NaN: only NaN-ness is specified).
TEST(FloatOps, ConversionsMatchHalfReference) {
  std::vector<float> x = testing::random_floats(1000, 3);
  x[1] = std::numeric_limits<float>::infinity();
  x[2] = -0.0f;
  x[3] = 65520.0f;                      // rounds to infinity in F16
  x[4] = 1e-6f;                         // F16 subnormal
  x[5] = 1.0f + std::ldexp(1.0f, -11);  // tie, to even
  x[6] = std::numeric_limits<float>::quiet_NaN();
  x[7] = 3.0e38f;
  std::vector<uint16_t> bits(70000);
  for (uint32_t h = 0; h < 0x10000; ++h) bits[h] = static_cast<uint16_t>(h);
  for (DType type : {DType::kF16, DType::kBF16}) {
    for (IsaLevel level : testing::available_levels()) {
      const TypeOps& ops = type_ops(type, level);
      const int64_t n = static_cast<int64_t>(x.size()) - 3;  // not a multiple of any vector width
      std::vector<uint16_t> got(n + 1, 0x5A5A);
      ops.from_float(x.data(), got.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t want = type == DType::kF16 ? f32_to_f16(x[i]) : f32_to_bf16(x[i]);
        if (std::isnan(x[i])) {
          const float back = type == DType::kF16 ? f16_to_f32(got[i]) : bf16_to_f32(got[i]);
          EXPECT_TRUE(std::isnan(back));
        } else {
          EXPECT_EQ(got[i], want) << dtype_name(type) << " " << isa_level_name(level) << " "
                                  << x[i];
        }
      }
      EXPECT_EQ(got[n], 0x5A5A) << "wrote past the end";

      const int64_t m = 0x10000 + 5;
      bits.resize(m, 0x3c00);
      std::vector<float> back(m + 1, 7.0f);
      ops.to_float(bits.data(), back.data(), m);
      for (int64_t i = 0; i < m; ++i) {
        const float want = type == DType::kF16 ? f16_to_f32(bits[i]) : bf16_to_f32(bits[i]);
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(back[i]));
        } else {
          EXPECT_EQ(std::bit_cast<uint32_t>(back[i]), std::bit_cast<uint32_t>(want)) << i;
        }
      }
      EXPECT_EQ(back[m], 7.0f);
    }
  }
}

TEST(FloatOps, GemmMatchesExactDotProducts) {
  uint32_t seed = 200;
  for (DType type : kFloatTypes) {
    for (IsaLevel level : testing::available_levels()) {
      const TypeOps* ops = float_type_ops(type, level);
      if (!ops) continue;
      for (int64_t cols : {1, 7, 16, 33, 100, 1000}) {
        for (int rows = 1; rows <= ops->max_rows; ++rows) {
          for (int acts = 1; acts <= ops->max_acts; ++acts) {
            testing::check_gemm(*ops, level, cols, rows, acts, ++seed);
          }
        }
      }
      testing::check_gemm(*ops, level, 5632 + 5, ops->max_rows, ops->max_acts, ++seed);
    }
  }
}

}  // namespace
}  // namespace inferd::backend::cpu

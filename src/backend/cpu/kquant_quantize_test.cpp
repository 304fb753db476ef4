// Round trip of the K-quant weight quantizers: from_float then to_float stays within the error a
// round-to-nearest quantizer of each format can reach, on Gaussian data and on awkward blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu/kquant_testing.h"
#include "backend/cpu/type_ops.h"

namespace inferd::backend::cpu::kquant {
namespace {

struct Bounds {
  DType type;
  // Relative RMS error on N(0, 1) data.
  double rel_rms;
  // Largest error of one element over the largest magnitude of its super-block: half a step of
  // the widest group, or a full step where the format's code range is asymmetric (Q3_K, Q6_K
  // clip the largest positive value of a group whose extreme is negative).
  double max_over_amax;
};

constexpr Bounds kBounds[] = {
    {DType::kQ2_K, 0.38, 0.36},  {DType::kQ3_K, 0.17, 0.26},   {DType::kQ4_K, 0.09, 0.075},
    {DType::kQ5_K, 0.045, 0.04}, {DType::kQ6_K, 0.022, 0.035},
};

struct Errors {
  double rel_rms = 0;
  double max_over_amax = 0;
};

Errors round_trip(DType type, const std::vector<float>& x) {
  const TypeOps& ops = *kquant_type_ops(type, IsaLevel::kScalar);
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(static_cast<size_t>(dtype_bytes(type, n)));
  std::vector<float> y(x.size());
  ops.from_float(x.data(), q.data(), n);
  ops.to_float(q.data(), y.data(), n);
  Errors e;
  double err2 = 0, norm2 = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    float amax = 0;
    for (int i = 0; i < kQK_K; ++i) amax = std::max(amax, std::fabs(x[b * kQK_K + i]));
    for (int i = 0; i < kQK_K; ++i) {
      const double d = static_cast<double>(y[b * kQK_K + i]) - x[b * kQK_K + i];
      EXPECT_TRUE(std::isfinite(y[b * kQK_K + i]));
      err2 += d * d;
      norm2 += static_cast<double>(x[b * kQK_K + i]) * x[b * kQK_K + i];
      if (amax > 0)
        e.max_over_amax = std::max(e.max_over_amax, std::fabs(d) / amax);
      else
        EXPECT_EQ(y[b * kQK_K + i], 0.0f);
    }
  }
  e.rel_rms = norm2 > 0 ? std::sqrt(err2 / norm2) : std::sqrt(err2);
  return e;
}

TEST(KquantQuantize, GaussianRoundTrip) {
  std::mt19937 rng(3);
  const std::vector<float> x = testing::gaussian(rng, 256 * kQK_K, 1.0f);
  for (const Bounds& bound : kBounds) {
    const Errors e = round_trip(bound.type, x);
    EXPECT_LT(e.rel_rms, bound.rel_rms) << dtype_name(bound.type);
    EXPECT_LT(e.max_over_amax, bound.max_over_amax) << dtype_name(bound.type);
  }
}

// Blocks that stress the scale choices: all zero, constant, one spike, one loud group among
// quiet ones, all positive, all negative, tiny magnitudes.
std::vector<float> awkward_blocks(std::mt19937& rng) {
  std::vector<float> x;
  auto block = [&](auto&& value) {
    for (int i = 0; i < kQK_K; ++i) x.push_back(value(i));
  };
  std::normal_distribution<float> normal(0.0f, 1.0f);
  block([](int) { return 0.0f; });
  block([](int) { return 0.75f; });
  block([](int) { return -3.0f; });
  block([](int i) { return i == 77 ? 50.0f : 0.0f; });
  block([&](int i) { return (i / 32 == 5 ? 1000.0f : 0.01f) * normal(rng); });
  block([&](int) { return std::fabs(normal(rng)) + 2.0f; });
  block([&](int) { return -std::fabs(normal(rng)) - 2.0f; });
  block([&](int) { return 1e-5f * normal(rng); });  // d is a subnormal half
  return x;
}

TEST(KquantQuantize, AwkwardBlocksRoundTrip) {
  std::mt19937 rng(4);
  const std::vector<float> x = awkward_blocks(rng);
  for (const Bounds& bound : kBounds) {
    const Errors e = round_trip(bound.type, x);
    EXPECT_LT(e.max_over_amax, bound.max_over_amax) << dtype_name(bound.type);
  }
}

// A quantized matrix multiplied at every level agrees with the float product of the original
// values to within the quantization error.
TEST(KquantQuantize, QuantizedGemmApproximatesFloatProduct) {
  std::mt19937 rng(8);
  const int64_t n = 4 * kQK_K;
  const int rows = 16;
  const std::vector<float> w = testing::gaussian(rng, rows * n, 1.0f);
  const std::vector<float> x = testing::gaussian(rng, n, 1.0f);
  for (const Bounds& bound : kBounds) {
    for (IsaLevel level : testing::runnable_levels()) {
      const TypeOps& ops = *kquant_type_ops(bound.type, level);
      const TypeOps& act = *kquant_type_ops(DType::kQ8_K, level);
      const size_t row_bytes = static_cast<size_t>(dtype_bytes(bound.type, n));
      std::vector<uint8_t> wq(row_bytes * rows),
          xq(static_cast<size_t>(dtype_bytes(DType::kQ8_K, n)));
      ops.from_float(w.data(), wq.data(), rows * n);
      act.from_float(x.data(), xq.data(), n);
      std::vector<float> y(rows);
      for (int i = 0; i < rows; i += ops.max_rows)
        ops.gemm(n, wq.data() + i * row_bytes, row_bytes, std::min(ops.max_rows, rows - i),
                 xq.data(), 0, 1, y.data() + i, 0);
      double err2 = 0, norm2 = 0;
      for (int i = 0; i < rows; ++i) {
        double want = 0;
        for (int64_t e = 0; e < n; ++e) want += static_cast<double>(w[i * n + e]) * x[e];
        err2 += (y[i] - want) * (y[i] - want);
        norm2 += want * want;
      }
      // Independent errors of weights and activations (Q8_K: about 1%) add up in quadrature.
      EXPECT_LT(std::sqrt(err2 / norm2), 1.5 * bound.rel_rms + 0.02)
          << dtype_name(bound.type) << " " << isa_level_name(level);
    }
  }
}

}  // namespace
}  // namespace inferd::backend::cpu::kquant

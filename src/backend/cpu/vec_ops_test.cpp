#include "backend/cpu/vec_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace inferd::backend::cpu {
namespace {

TEST(VecOps, FastMatchesReference) {
  if (cpu_features().level < IsaLevel::kAvx2) GTEST_SKIP() << "no AVX2 on this CPU";
  const VecOps& ref = vec_ops(IsaLevel::kScalar);
  const VecOps& fast = vec_ops(IsaLevel::kAvx2);
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  for (int64_t n : {1, 7, 8, 15, 16, 17, 64, 100, 257}) {
    std::vector<float> a(n), y_ref(n), y_fast(n);
    std::vector<f16_t> b(n), h_ref(n), h_fast(n);
    for (int64_t i = 0; i < n; ++i) {
      a[i] = dist(rng);
      b[i] = f32_to_f16(dist(rng));
      y_ref[i] = y_fast[i] = dist(rng);
    }
    // Summation order differs: allow a few ulps of the magnitude sum.
    float mag = 0;
    for (int64_t i = 0; i < n; ++i) mag += std::fabs(a[i] * f16_to_f32(b[i]));
    EXPECT_NEAR(ref.dot_f32_f16(a.data(), b.data(), n), fast.dot_f32_f16(a.data(), b.data(), n),
                1e-6f * mag + 1e-7f);
    ref.axpy_f16(0.37f, b.data(), y_ref.data(), n);
    fast.axpy_f16(0.37f, b.data(), y_fast.data(), n);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y_ref[i], y_fast[i], 1e-6f * (1 + std::fabs(y_ref[i])));
    ref.f32_to_f16(a.data(), h_ref.data(), n);
    fast.f32_to_f16(a.data(), h_fast.data(), n);
    EXPECT_EQ(h_ref, h_fast);
  }
}

TEST(VecOps, Q8_0KernelsMatchReferenceAndDequantizedRows) {
  const VecOps& ref = vec_ops(IsaLevel::kScalar);
  const VecOps& fast = vec_ops(cpu_features().level);
  std::mt19937 rng(11);
  std::normal_distribution<float> dist;
  std::uniform_int_distribution<int> q(-127, 127);
  for (int64_t n : {32, 64, 96, 128, 256}) {
    std::vector<BlockQ8_0> x(n / kQK);
    std::vector<float> a(n), deq(n), y_ref(n), y_fast(n), y_plain(n);
    for (auto& b : x) {
      b.d = f32_to_f16(0.01f + std::fabs(dist(rng)) * 0.02f);
      for (auto& v : b.qs) v = static_cast<int8_t>(q(rng));
    }
    float dot_plain = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      a[i] = dist(rng);
      deq[i] = f16_to_f32(x[i / kQK].d) * x[i / kQK].qs[i % kQK];
      dot_plain += a[i] * deq[i];
      mag += std::fabs(a[i] * deq[i]);
      y_ref[i] = y_fast[i] = y_plain[i] = dist(rng);
    }
    EXPECT_NEAR(ref.dot_f32_q8_0(a.data(), x.data(), n), dot_plain, 1e-5f * mag + 1e-6f);
    EXPECT_NEAR(fast.dot_f32_q8_0(a.data(), x.data(), n), dot_plain, 1e-5f * mag + 1e-6f);
    ref.axpy_q8_0(-0.61f, x.data(), y_ref.data(), n);
    fast.axpy_q8_0(-0.61f, x.data(), y_fast.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      y_plain[i] += -0.61f * deq[i];
      EXPECT_NEAR(y_ref[i], y_plain[i], 1e-5f * (1 + std::fabs(y_plain[i])));
      EXPECT_NEAR(y_fast[i], y_plain[i], 1e-5f * (1 + std::fabs(y_plain[i])));
    }
  }
}

}  // namespace
}  // namespace inferd::backend::cpu

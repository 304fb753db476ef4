#include "backend/cpu/vec_ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
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
    for (int64_t i = 0; i < n; ++i)
      EXPECT_NEAR(y_ref[i], y_fast[i], 1e-6f * (1 + std::fabs(y_ref[i])));
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

// n rows of d halves, `stride` bytes apart (stride > 2 * d: other heads' data between rows).
std::vector<uint8_t> random_f16_rows(std::mt19937& rng, int64_t n, int64_t d, size_t stride) {
  std::normal_distribution<float> dist;
  std::vector<uint8_t> rows(n * stride, 0xff);  // NaN halves between the rows
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < d; ++i) {
      const f16_t h = f32_to_f16(dist(rng));
      std::memcpy(rows.data() + j * stride + 2 * i, &h, 2);
    }
  return rows;
}

// Every SIMD level this CPU has.
std::vector<IsaLevel> simd_levels() {
  std::vector<IsaLevel> levels;
  for (IsaLevel l : {IsaLevel::kAvx2, IsaLevel::kAvx512})
    if (cpu_features().level >= l) levels.push_back(l);
  return levels;
}

// Several heads at once (each at its own stride) give each head's single-head results exactly.
TEST(VecOps, AttentionKernelsMatchReference) {
  const VecOps& ref = vec_ops(IsaLevel::kScalar);
  for (IsaLevel level : simd_levels()) {
    SCOPED_TRACE(isa_level_name(level));
    const VecOps& fast = vec_ops(level);
    std::mt19937 rng(5);
    std::normal_distribution<float> dist;
    for (int64_t d : {1, 7, 8, 60, 64, 96, 128, 200, 256}) {
      for (int64_t n : {1, 3, 4, 5, 9, 33}) {
        const int heads = 7;  // blocks of 4, 2 and 1
        const int64_t qs = d + 3, ps = n + 5, ys = d + 2;
        const size_t stride = 2 * d + 70;
        const std::vector<uint8_t> rows = random_f16_rows(rng, n, d, stride);
        std::vector<float> q(heads * qs), p(heads * ps), s_ref(heads * ps), s_fast(heads * ps);
        std::vector<float> y_ref(heads * ys), y_fast(heads * ys), y_rows(heads * ys);
        for (float& v : q) v = dist(rng);
        for (float& v : p) v = std::fabs(dist(rng));
        for (size_t i = 0; i < y_ref.size(); ++i) y_ref[i] = y_fast[i] = y_rows[i] = dist(rng);
        ref.scores_f16(q.data(), qs, heads, rows.data(), stride, n, d, s_ref.data(), ps);
        fast.scores_f16(q.data(), qs, heads, rows.data(), stride, n, d, s_fast.data(), ps);
        for (int h = 0; h < heads; ++h) {
          // The head alone gives the same scores.
          std::vector<float> alone(n);
          fast.scores_f16(q.data() + h * qs, qs, 1, rows.data(), stride, n, d, alone.data(), n);
          for (int64_t j = 0; j < n; ++j) {
            const auto* row = reinterpret_cast<const f16_t*>(rows.data() + j * stride);
            float mag = 0;
            for (int64_t i = 0; i < d; ++i) mag += std::fabs(q[h * qs + i] * f16_to_f32(row[i]));
            EXPECT_NEAR(s_ref[h * ps + j], s_fast[h * ps + j], 1e-6f * mag + 1e-7f)
                << "d=" << d << " n=" << n << " head " << h;
            EXPECT_EQ(alone[j], s_fast[h * ps + j]);
            // A row's score is the same computed alone.
            float one;
            fast.scores_f16(q.data() + h * qs, qs, 1, rows.data() + j * stride, stride, 1, d, &one,
                            1);
            EXPECT_EQ(one, s_fast[h * ps + j]);
          }
        }
        ref.weighted_sum_f16(p.data(), ps, heads, rows.data(), stride, n, d, y_ref.data(), ys);
        fast.weighted_sum_f16(p.data(), ps, heads, rows.data(), stride, n, d, y_fast.data(), ys);
        // The same as the axpy of each row in turn, bit for bit.
        for (int h = 0; h < heads; ++h)
          for (int64_t j = 0; j < n; ++j)
            fast.axpy_f16(p[h * ps + j], reinterpret_cast<const f16_t*>(rows.data() + j * stride),
                          y_rows.data() + h * ys, d);
        for (int h = 0; h < heads; ++h) {
          for (int64_t i = 0; i < d; ++i) {
            const int64_t k = h * ys + i;
            EXPECT_NEAR(y_ref[k], y_fast[k], 1e-5f * (1 + std::fabs(y_ref[k])));
            EXPECT_EQ(y_fast[k], y_rows[k]) << "d=" << d << " n=" << n << " head " << h;
          }
        }
      }
    }
  }
}

TEST(VecOps, RoundToF16MatchesTheScalarConversion) {
  const VecOps& ref = vec_ops(IsaLevel::kScalar);
  const VecOps& fast = vec_ops(cpu_features().level);
  std::vector<float> x = {
      0.0f,     -0.0f, 1e-8f, 6.1e-5f,  0.333333f, -2.71828f,          65519.0f,
      65520.0f, 1e9f,  -1e9f, 5.96e-8f, 3.0e-8f,   1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048};
  std::mt19937 rng(9);
  std::normal_distribution<float> dist(0.0f, 100.0f);
  for (int i = 0; i < 37; ++i) x.push_back(dist(rng));
  std::vector<float> a = x, b = x;
  ref.round_to_f16(a.data(), static_cast<int64_t>(a.size()));
  fast.round_to_f16(b.data(), static_cast<int64_t>(b.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(a[i], f16_to_f32(f32_to_f16(x[i])));
    EXPECT_EQ(std::bit_cast<uint32_t>(a[i]), std::bit_cast<uint32_t>(b[i])) << x[i];
  }
}

TEST(VecOps, ScaleMaxScalesInPlaceAndReturnsTheLargest) {
  const VecOps& ref = vec_ops(IsaLevel::kScalar);
  const VecOps& fast = vec_ops(cpu_features().level);
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 30.0f);
  for (int64_t len : {0, 1, 7, 8, 15, 16, 17, 33, 116, 1000}) {
    for (int where : {0, 1, 2}) {  // the largest first, last, or wherever it falls
      std::vector<float> x(len);
      for (float& v : x) v = dist(rng);
      if (len > 0 && where < 2) x[where == 0 ? 0 : len - 1] = 500.0f;
      std::vector<float> a = x, b = x;
      const float max_ref = ref.scale_max(a.data(), len, 0.125f);
      const float max_fast = fast.scale_max(b.data(), len, 0.125f);
      float expected = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < len; ++i) {
        EXPECT_EQ(a[i], x[i] * 0.125f);
        EXPECT_EQ(b[i], a[i]);
        expected = std::max(expected, a[i]);
      }
      EXPECT_EQ(max_ref, expected) << len;
      EXPECT_EQ(max_fast, expected) << len;
    }
  }
  // NaNs are left out of the maximum (and stay NaN); all NaN gives -infinity.
  for (const VecOps* ops : {&ref, &fast}) {
    std::vector<float> x(20, std::numeric_limits<float>::quiet_NaN());
    x[3] = -2.0f;
    x[17] = 4.0f;
    EXPECT_EQ(ops->scale_max(x.data(), 20, 2.0f), 8.0f);
    EXPECT_TRUE(std::isnan(x[0]) && std::isnan(x[19]));
    std::vector<float> nan(9, std::numeric_limits<float>::quiet_NaN());
    EXPECT_EQ(ops->scale_max(nan.data(), 9, 1.0f), -std::numeric_limits<float>::infinity());
  }
}

// Distance in units in the last place between two finite floats of the same sign.
int64_t ulps(float a, float b) {
  return std::abs(static_cast<int64_t>(std::bit_cast<int32_t>(a)) - std::bit_cast<int32_t>(b));
}

TEST(VecOps, ExpAndSiluMatchTheStandardExp) {
  const VecOps& ref = vec_ops(IsaLevel::kScalar);
  const VecOps& fast = vec_ops(cpu_features().level);
  std::vector<float> x;
  for (float v = -87.0f; v <= 88.5f; v += 0.01237f) x.push_back(v);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 0.5f * 0.6931472f, -0.5f * 0.6931472f})
    x.push_back(v);
  const int64_t n = static_cast<int64_t>(x.size());  // not a multiple of 8: the tail too
  std::vector<float> a = x, b = x;
  const double sum_ref = ref.exp_shifted(a.data(), n, 0.0f);
  const double sum_fast = fast.exp_shifted(b.data(), n, 0.0f);
  int64_t worst = 0;
  for (int64_t i = 0; i < n; ++i) worst = std::max(worst, ulps(a[i], b[i]));
  EXPECT_LE(worst, 2);
  EXPECT_NEAR(sum_ref, sum_fast, 3e-7 * sum_ref);
  // Shifted as softmax uses it; special inputs.
  std::vector<float> s = {3.0f, 1.0f, -200.0f, -std::numeric_limits<float>::infinity(), 3.0f};
  const double total = fast.exp_shifted(s.data(), 5, 3.0f);
  EXPECT_EQ(s[0], 1.0f);
  EXPECT_LE(ulps(s[1], std::exp(-2.0f)), 2);
  EXPECT_EQ(s[2], 0.0f);
  EXPECT_EQ(s[3], 0.0f);
  EXPECT_NEAR(total, 2.0 + std::exp(-2.0), 1e-6);
  std::vector<float> nan = {std::numeric_limits<float>::quiet_NaN(), 1.0f};
  fast.exp_shifted(nan.data(), 2, 0.0f);
  EXPECT_TRUE(std::isnan(nan[0]));

  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 4.0f);
  for (int64_t len : {1, 7, 8, 9, 100, 5632}) {
    std::vector<float> g(len), u(len);
    for (int64_t i = 0; i < len; ++i) {
      g[i] = dist(rng);
      u[i] = dist(rng);
    }
    g[0] = -100.0f;  // exp(100) is clamped: silu is still -0
    std::vector<float> g_ref = g, g_fast = g;
    ref.silu_mul(g_ref.data(), u.data(), len);
    fast.silu_mul(g_fast.data(), u.data(), len);
    for (int64_t i = 0; i < len; ++i)
      EXPECT_NEAR(g_ref[i], g_fast[i], 4e-7f * std::fabs(g_ref[i]) + 1e-30f) << g[i];
  }
  std::vector<float> g = {std::numeric_limits<float>::quiet_NaN()}, u = {1.0f};
  fast.silu_mul(g.data(), u.data(), 1);
  EXPECT_TRUE(std::isnan(g[0]));
}

// RMSNorm gives the reference's bits at every level: the same squares in the same 8 partial sums.
TEST(VecOps, RmsNormEqualsTheReferenceAtEveryLevel) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 64, 100, 2048, 5633}) {
    std::vector<float> x(n), w(n);
    for (int64_t i = 0; i < n; ++i) {
      x[i] = dist(rng);
      w[i] = dist(rng);
    }
    std::vector<float> want(n);
    vec_ops(IsaLevel::kScalar).rms_norm(x.data(), w.data(), n, 1e-5f, want.data());
    // out[i] = x[i] / rms * w[i]
    double sq = 0;
    for (float v : x) sq += static_cast<double>(v) * v;
    const double inv_rms = 1.0 / std::sqrt(sq / static_cast<double>(n) + 1e-5);
    for (int64_t i = 0; i < n; ++i)
      EXPECT_NEAR(want[i], x[i] * inv_rms * w[i], 1e-5 * (1 + std::fabs(want[i])));
    for (IsaLevel level : {IsaLevel::kAvx2, IsaLevel::kAvx512}) {
      if (cpu_features().level < level) continue;
      std::vector<float> got = x;  // in place: out aliases x
      vec_ops(level).rms_norm(got.data(), w.data(), n, 1e-5f, got.data());
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i]))
            << "n " << n << " element " << i << " level " << static_cast<int>(level);
    }
  }
}

// The AVX-512 exp_shifted and silu_mul give the AVX2 versions' bits (values and sum), tails
// included.
TEST(VecOps, Avx512ElementwiseKernelsEqualAvx2) {
  if (cpu_features().level < IsaLevel::kAvx512) GTEST_SKIP() << "no AVX-512 on this CPU";
  const VecOps& avx2 = vec_ops(IsaLevel::kAvx2);
  const VecOps& avx512 = vec_ops(IsaLevel::kAvx512);
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 6.0f);
  for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 100, 160, 5632}) {
    std::vector<float> x(n), u(n);
    for (int64_t i = 0; i < n; ++i) {
      x[i] = dist(rng);
      u[i] = dist(rng);
    }
    x[0] = -100.0f;
    if (n > 2) x[2] = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> a = x, b = x;
    const double sa = avx2.exp_shifted(a.data(), n, 1.5f);
    const double sb = avx512.exp_shifted(b.data(), n, 1.5f);
    EXPECT_EQ(std::bit_cast<uint64_t>(sa), std::bit_cast<uint64_t>(sb)) << "n " << n;
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(std::bit_cast<uint32_t>(a[i]), std::bit_cast<uint32_t>(b[i]))
          << "n " << n << " i " << i;
    a = x;
    b = x;
    avx2.silu_mul(a.data(), u.data(), n);
    avx512.silu_mul(b.data(), u.data(), n);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(std::bit_cast<uint32_t>(a[i]), std::bit_cast<uint32_t>(b[i]))
          << "n " << n << " i " << i;
  }
}

}  // namespace
}  // namespace inferd::backend::cpu

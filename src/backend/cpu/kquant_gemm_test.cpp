// K-quant gemm at every ISA level this machine runs: against the scalar reference on odd shapes
// and padded strides, and against a double-precision loop over dequantized weights and
// activations. Also the Q8_K activation quantizer of every level against the scalar one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "backend/cpu/kquant_kernels.h"
#include "backend/cpu/kquant_ref.h"
#include "backend/cpu/kquant_testing.h"
#include "backend/cpu/type_ops.h"

namespace inferd::backend::cpu::kquant {
namespace {

using testing::kWeightTypes;
using testing::runnable_levels;

struct Problem {
  DType type;
  int64_t n;
  int rows, acts;
  size_t w_stride, act_stride, out_stride;
  std::vector<uint8_t> w, act;
};

Problem make_problem(std::mt19937& rng, DType type, int64_t n, int rows, int acts) {
  Problem p{type, n, rows, acts, 0, 0, 0, {}, {}};
  // Padding between rows holds random bytes that must never be read as data.
  p.w_stride = static_cast<size_t>(dtype_bytes(type, n)) + 40;
  p.act_stride = static_cast<size_t>(dtype_bytes(DType::kQ8_K, n)) + 24;
  p.out_stride = static_cast<size_t>(rows) + 3;
  p.w.resize(p.w_stride * rows);
  p.act.resize(p.act_stride * acts);
  testing::random_weight_rows(rng, type, p.w.data(), rows, n / kQK_K, p.w_stride);
  testing::random_act_rows(rng, p.act.data(), acts, n / kQK_K, p.act_stride);
  return p;
}

// Runs `ops.gemm` over the problem in tiles of at most max_rows x max_acts, as a driver does.
// Output cells outside the result keep their initial NaN.
std::vector<float> run_tiled(const TypeOps& ops, const Problem& p) {
  std::vector<float> out(p.out_stride * p.acts, std::numeric_limits<float>::quiet_NaN());
  for (int j = 0; j < p.acts; j += ops.max_acts)
    for (int i = 0; i < p.rows; i += ops.max_rows)
      ops.gemm(p.n, p.w.data() + i * p.w_stride, p.w_stride, std::min(ops.max_rows, p.rows - i),
               p.act.data() + j * p.act_stride, p.act_stride, std::min(ops.max_acts, p.acts - j),
               out.data() + j * p.out_stride + i, p.out_stride);
  return out;
}

template <class Block>
double magnitude_of(const Problem& p, int i, int j) {
  const Block* w = reinterpret_cast<const Block*>(p.w.data() + i * p.w_stride);
  const BlockQ8_K* x = reinterpret_cast<const BlockQ8_K*>(p.act.data() + j * p.act_stride);
  double mag = 0;
  KBlockInts u;
  for (int64_t b = 0; b < p.n / kQK_K; ++b) {
    unpack_ints(w[b], &u);
    for (int e = 0; e < kQK_K; ++e)
      mag += (std::fabs(u.d * u.sc[e / 16] * u.q[e]) + std::fabs(u.dm * u.m[e / 16])) *
             std::fabs(static_cast<double>(x[b].d) * x[b].qs[e]);
  }
  return mag;
}

// Sum over the elements of |every term| of the product: float results may differ by a few
// roundings of this size.
double magnitude(const Problem& p, int i, int j) {
  switch (p.type) {
    case DType::kQ2_K: return magnitude_of<BlockQ2_K>(p, i, j);
    case DType::kQ3_K: return magnitude_of<BlockQ3_K>(p, i, j);
    case DType::kQ4_K: return magnitude_of<BlockQ4_K>(p, i, j);
    case DType::kQ5_K: return magnitude_of<BlockQ5_K>(p, i, j);
    case DType::kQ6_K: return magnitude_of<BlockQ6_K>(p, i, j);
    default: return 0;
  }
}

void expect_untouched_padding(const Problem& p, const std::vector<float>& out) {
  for (int j = 0; j < p.acts; ++j)
    for (size_t i = p.rows; i < p.out_stride; ++i)
      EXPECT_TRUE(std::isnan(out[j * p.out_stride + i])) << "wrote outside the tile";
}

TEST(KquantGemm, MatchesReferenceAtEveryLevel) {
  std::mt19937 rng(1234);
  for (DType type : kWeightTypes) {
    const TypeOps& ref = *kquant_type_ops(type, IsaLevel::kScalar);
    for (IsaLevel level : runnable_levels()) {
      const TypeOps& ops = *kquant_type_ops(type, level);
      for (int64_t n : {256, 256 * 9}) {
        for (int rows : {1, 2, 3, 5, ops.max_rows, ops.max_rows + 3}) {
          for (int acts : {1, 2, 3, 5, 7, ops.max_acts, 2 * ops.max_acts + 1}) {
            SCOPED_TRACE(::testing::Message()
                         << dtype_name(type) << " " << isa_level_name(level) << " n=" << n
                         << " rows=" << rows << " acts=" << acts);
            const Problem p = make_problem(rng, type, n, rows, acts);
            const auto got = run_tiled(ops, p);
            const auto want = run_tiled(ref, p);
            for (int j = 0; j < acts; ++j)
              for (int i = 0; i < rows; ++i) {
                const double tol = 2e-6 * magnitude(p, i, j) + 1e-30;
                ASSERT_NEAR(got[j * p.out_stride + i], want[j * p.out_stride + i], tol)
                    << "row " << i << " act " << j;
              }
            expect_untouched_padding(p, got);
          }
        }
      }
    }
  }
}

TEST(KquantGemm, MatchesDoublePrecisionDequantizedProduct) {
  std::mt19937 rng(99);
  for (DType type : kWeightTypes) {
    for (IsaLevel level : runnable_levels()) {
      const TypeOps& ops = *kquant_type_ops(type, level);
      SCOPED_TRACE(::testing::Message() << dtype_name(type) << " " << isa_level_name(level));
      const int64_t n = 256 * 5;
      const Problem p = make_problem(rng, type, n, 7, 6);
      const auto got = run_tiled(ops, p);
      std::vector<float> w(n), x(n);
      for (int i = 0; i < p.rows; ++i) {
        ops.to_float(p.w.data() + i * p.w_stride, w.data(), n);
        for (int j = 0; j < p.acts; ++j) {
          const auto* xb = reinterpret_cast<const BlockQ8_K*>(p.act.data() + j * p.act_stride);
          double want = 0;
          for (int64_t e = 0; e < n; ++e)
            want += static_cast<double>(w[e]) * xb[e / kQK_K].d * xb[e / kQK_K].qs[e % kQK_K];
          EXPECT_NEAR(got[j * p.out_stride + i], want, 4e-6 * magnitude(p, i, j) + 1e-30)
              << "row " << i << " act " << j;
        }
      }
    }
  }
}

// Largest codes and scales against activations of -128 or 127 everywhere: the int16 and int32
// intermediate sums of the fast kernels must not saturate or wrap.
TEST(KquantGemm, ExtremeValuesMatchReference) {
  std::mt19937 rng(77);
  for (DType type : kWeightTypes) {
    for (IsaLevel level : runnable_levels()) {
      const TypeOps& ops = *kquant_type_ops(type, level);
      const TypeOps& ref = *kquant_type_ops(type, IsaLevel::kScalar);
      for (int8_t a : {int8_t{-128}, int8_t{127}}) {
        for (uint8_t fill : {uint8_t{0xff}, uint8_t{0x00}, uint8_t{0x80}}) {
          SCOPED_TRACE(::testing::Message() << dtype_name(type) << " " << isa_level_name(level)
                                            << " act " << int{a} << " fill " << int{fill});
          Problem p = make_problem(rng, type, 2 * kQK_K, 2, 1);
          // Every byte `fill` (all codes and scales at one extreme), then sane half scales.
          std::fill(p.w.begin(), p.w.end(), fill);
          for (int r = 0; r < p.rows; ++r) {
            uint8_t* row = p.w.data() + r * p.w_stride;
            const size_t block_bytes = static_cast<size_t>(dtype_info(type).block_bytes);
            for (int b = 0; b < 2; ++b) {
              // d (and dmin) sit at the start for Q4_K/Q5_K and at the end otherwise.
              const bool front = type == DType::kQ4_K || type == DType::kQ5_K;
              const size_t scale_bytes = type == DType::kQ3_K || type == DType::kQ6_K ? 2 : 4;
              uint8_t* d = row + b * block_bytes + (front ? 0 : block_bytes - scale_bytes);
              const f16_t one = f32_to_f16(0.5f);
              for (size_t i = 0; i < scale_bytes; i += 2) std::memcpy(d + i, &one, 2);
            }
          }
          auto* xb = reinterpret_cast<BlockQ8_K*>(p.act.data());
          for (int b = 0; b < 2; ++b) {
            xb[b].d = 1.0f;
            std::fill(std::begin(xb[b].qs), std::end(xb[b].qs), a);
            std::fill(std::begin(xb[b].bsums), std::end(xb[b].bsums), static_cast<int16_t>(16 * a));
          }
          const auto got = run_tiled(ops, p);
          const auto want = run_tiled(ref, p);
          for (int i = 0; i < p.rows; ++i)
            EXPECT_NEAR(got[i], want[i], 2e-6 * magnitude(p, i, 0) + 1e-30) << "row " << i;
        }
      }
    }
  }
}

// ---- Q8_K activations --------------------------------------------------------------------------

std::vector<float> activation_samples(std::mt19937& rng, int64_t n) {
  std::vector<float> x = testing::gaussian(rng, n, 1.0f);
  // Block 1 all zero, block 2 one spike, block 3 tiny values, block 4 exact ties at x * 127/amax.
  for (int e = 0; e < kQK_K; ++e) x[kQK_K + e] = 0;
  x[2 * kQK_K + 17] = 1000.0f;
  for (int e = 0; e < kQK_K; ++e) x[3 * kQK_K + e] *= 1e-30f;
  // With amax = 127 the scale is exactly 1, so element e (2 <= e < 255) is a tie e - 128 +- 0.5.
  for (int e = 0; e < kQK_K; ++e) x[4 * kQK_K + e] = (e % 2 ? -0.5f : 0.5f) + (e - 128);
  x[4 * kQK_K] = 127.0f;
  x[4 * kQK_K + 1] = 0;
  x[4 * kQK_K + 255] = 0;
  return x;
}

TEST(KquantQ8K, EveryLevelMatchesScalarBytes) {
  std::mt19937 rng(5);
  const int64_t n = 8 * kQK_K;
  std::vector<float> x = activation_samples(rng, n);
  x[6 * kQK_K + 3] = std::numeric_limits<float>::quiet_NaN();
  x[7 * kQK_K + 9] = std::numeric_limits<float>::infinity();
  const size_t bytes = static_cast<size_t>(dtype_bytes(DType::kQ8_K, n));
  std::vector<uint8_t> want(bytes);
  q8_k_from_float(x.data(), want.data(), n);
  for (IsaLevel level : runnable_levels()) {
    std::vector<uint8_t> got(bytes, 0xa5);
    kquant_type_ops(DType::kQ8_K, level)->from_float(x.data(), got.data(), n);
    for (int64_t b = 0; b < n / kQK_K; ++b)
      EXPECT_EQ(std::memcmp(got.data() + b * sizeof(BlockQ8_K), want.data() + b * sizeof(BlockQ8_K),
                            sizeof(BlockQ8_K)),
                0)
          << isa_level_name(level) << " block " << b;
  }
}

TEST(KquantQ8K, RoundTripAndSums) {
  std::mt19937 rng(6);
  const int64_t n = 6 * kQK_K;
  const std::vector<float> x = activation_samples(rng, n);
  std::vector<BlockQ8_K> q(n / kQK_K);
  q8_k_from_float(x.data(), q.data(), n);
  std::vector<float> y(n);
  q8_k_to_float(q.data(), y.data(), n);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    float amax = 0;
    for (int e = 0; e < kQK_K; ++e) amax = std::max(amax, std::fabs(x[b * kQK_K + e]));
    EXPECT_FLOAT_EQ(q[b].d, amax / 127.0f);
    for (int e = 0; e < kQK_K; ++e) {
      EXPECT_LE(std::abs(q[b].qs[e]), 127);
      EXPECT_LE(std::fabs(y[b * kQK_K + e] - x[b * kQK_K + e]), 0.5001f * q[b].d + 1e-37f);
    }
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int e = 16 * g; e < 16 * g + 16; ++e) sum += q[b].qs[e];
      EXPECT_EQ(q[b].bsums[g], sum);
    }
  }
  EXPECT_EQ(q[1].d, 0.0f);  // the all-zero block
  // Ties round to even.
  EXPECT_EQ(q[4].qs[2], -126);  // -126 + 0.5
  EXPECT_EQ(q[4].qs[3], -126);  // -125 - 0.5
  EXPECT_EQ(q[4].qs[4], -124);  // -124 + 0.5
  EXPECT_EQ(q[4].qs[5], -124);  // -123 - 0.5
}

}  // namespace
}  // namespace inferd::backend::cpu::kquant

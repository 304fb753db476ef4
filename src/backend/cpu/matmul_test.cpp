#include "backend/cpu/matmul.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <vector>

#include "backend/cpu/kernel_testing.h"
#include "backend/cpu/type_ops.h"

namespace inferd::backend::cpu {
namespace {

constexpr DType kTypes[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0,
                            DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0};

struct Shape {
  int64_t rows, cols, tokens;
};

// Runs matmul() and compares every output with a plain double-precision loop.
//
// The kernels see the activations after conversion to the weight type's act_type; that
// conversion is deterministic (tests of the families check it is the same at every ISA level),
// so the loop uses the converted values xq and the remaining error is float summation, bounded
// as in testing::check_gemm. A second check against the unconverted x adds the conversion
// error, at most sum |w_i| |x_i - xq_i| exactly.
void check_matmul(DType type, const Shape& s, int num_threads, size_t row_pad, uint32_t seed) {
  const TypeOps& ref = type_ops(type, IsaLevel::kScalar);
  const TypeOps& act_ref = type_ops(ref.act_type, IsaLevel::kScalar);
  const int block = dtype_info(type).block_elems;
  const size_t row_bytes = dtype_bytes(type, s.cols) + row_pad;
  const std::vector<float> wf = testing::random_floats(s.rows * s.cols, seed);
  const std::vector<float> x = testing::random_floats(s.tokens * s.cols, seed + 1);
  const std::vector<uint8_t> w = testing::encode_rows(ref, wf.data(), s.rows, s.cols, row_bytes);
  const std::vector<float> wd = testing::decode_rows(ref, w.data(), s.rows, s.cols, row_bytes);
  const size_t act_bytes = dtype_bytes(ref.act_type, s.cols);
  const std::vector<uint8_t> xe =
      testing::encode_rows(act_ref, x.data(), s.tokens, s.cols, act_bytes);
  const std::vector<float> xq =
      testing::decode_rows(act_ref, xe.data(), s.tokens, s.cols, act_bytes);

  ThreadPool pool(num_threads);
  MatmulScratch scratch;
  scratch.reserve(s.tokens + 3, s.cols, num_threads);  // larger than needed: reuse must work
  std::vector<float> y(s.tokens * s.rows + 1, -777.0f);
  const MatrixRef m{type, s.rows, s.cols, w.data(), row_bytes};
  matmul(m, x.data(), s.tokens, y.data(), pool, scratch);

  const double terms = static_cast<double>(s.cols) / block;
  for (int64_t t = 0; t < s.tokens; ++t) {
    for (int64_t r = 0; r < s.rows; ++r) {
      double exact_q = 0.0, exact = 0.0, bound = 0.0, conv = 0.0;
      for (int64_t b = 0; b < s.cols; b += block) {
        double wmax = 0.0, asum = 0.0;
        for (int64_t k = b; k < b + block; ++k) {
          const double wv = wd[r * s.cols + k];
          exact_q += wv * xq[t * s.cols + k];
          exact += wv * x[t * s.cols + k];
          conv += std::fabs(wv) * std::fabs(x[t * s.cols + k] - xq[t * s.cols + k]);
          wmax = std::max(wmax, std::fabs(wv));
          asum += std::fabs(xq[t * s.cols + k]);
        }
        bound += wmax * asum;
      }
      const double tol = 2.0 * (terms + 16) * std::ldexp(1.0, -24) * 3.0 * bound + 1e-30;
      const float got = y[t * s.rows + r];
      ASSERT_NEAR(got, exact_q, tol)
          << dtype_name(type) << " " << s.rows << "x" << s.cols << " tokens " << s.tokens
          << " threads " << num_threads << " at token " << t << " row " << r;
      ASSERT_NEAR(got, exact, tol + conv * (1 + 1e-6));
    }
  }
  EXPECT_EQ(y.back(), -777.0f) << "wrote past the output";
}

TEST(Matmul, MatchesDoubleLoopForEveryTypeAndThreadCount) {
  const Shape shapes[] = {{1, 32, 1},     {37, 96, 1}, {37, 96, 5},
                          {130, 1056, 9}, {8, 64, 3},  {3, 256, 2}};
  uint32_t seed = 1;
  for (DType type : kTypes) {
    for (const Shape& s : shapes) {
      for (int threads : {1, 2, 3}) check_matmul(type, s, threads, 0, seed += 2);
    }
  }
}

TEST(Matmul, PaddedRowsAndManyTokens) {
  uint32_t seed = 1000;
  for (DType type : kTypes) {
    check_matmul(type, {19, 2048, 1}, 2, 64, seed += 2);
    check_matmul(type, {21, 512, 67}, 3, 4, seed += 2);
  }
}

// Many tokens with long rows: activation rows are processed in several L2-sized chunks.
TEST(Matmul, ActivationsInSeveralChunks) {
  check_matmul(DType::kQ4_0, {13, 5632, 150}, 2, 0, 77);
  check_matmul(DType::kF16, {13, 2048, 70}, 2, 0, 79);
}

// Batch invariance: a token's outputs are bit-identical whether it is multiplied alone on one
// thread or among other tokens on several.
TEST(Matmul, ResultsDoNotDependOnBatchOrThreads) {
  const int64_t rows = 45, cols = 1056, tokens = 7;
  ThreadPool one(1), three(3);
  MatmulScratch scratch;
  scratch.reserve(tokens, cols, 3);
  const std::vector<float> x = testing::random_floats(tokens * cols, 5);
  for (DType type : kTypes) {
    const TypeOps& ref = type_ops(type, IsaLevel::kScalar);
    const size_t row_bytes = dtype_bytes(type, cols);
    const std::vector<float> wf = testing::random_floats(rows * cols, 6);
    const std::vector<uint8_t> w = testing::encode_rows(ref, wf.data(), rows, cols, row_bytes);
    const MatrixRef m{type, rows, cols, w.data(), row_bytes};
    std::vector<float> batch(tokens * rows), single(rows);
    matmul(m, x.data(), tokens, batch.data(), three, scratch);
    for (int64_t t = 0; t < tokens; ++t) {
      matmul(m, x.data() + t * cols, 1, single.data(), one, scratch);
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_EQ(std::bit_cast<uint32_t>(single[r]), std::bit_cast<uint32_t>(batch[t * rows + r]))
            << dtype_name(type) << " token " << t << " row " << r;
    }
  }
}

TEST(Matmul, ZeroTokensDoesNothing) {
  ThreadPool pool(2);
  MatmulScratch scratch;
  std::vector<uint8_t> w(dtype_bytes(DType::kQ8_0, 64) * 4);
  float y = 5.0f;
  matmul({DType::kQ8_0, 4, 64, w.data(), static_cast<size_t>(dtype_bytes(DType::kQ8_0, 64))},
         nullptr, 0, &y, pool, scratch);
  EXPECT_EQ(y, 5.0f);
}

}  // namespace
}  // namespace inferd::backend::cpu

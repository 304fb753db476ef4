// Helpers shared by the kernel unit tests (included only from *_test.cpp): random data, the ISA
// levels this CPU can run, and a check of one TypeOps::gemm call against an exact dot product.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/type_ops.h"
#include "backend/dtype.h"

namespace inferd::backend::cpu::testing {

inline std::vector<IsaLevel> available_levels() {
  std::vector<IsaLevel> levels;
  for (int l = 0; l <= static_cast<int>(cpu_features().level); ++l)
    levels.push_back(static_cast<IsaLevel>(l));
  return levels;
}

// Normal values whose magnitude changes every 32 elements by up to e^{+-3}, so that blocks
// exercise very different scales; a few exact zeros and a few outliers mixed in.
inline std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> log_scale(-3.0f, 3.0f);
  std::uniform_int_distribution<int> pick(0, 63);
  std::vector<float> v(n);
  float scale = 1.0f;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 32 == 0) scale = std::exp(log_scale(rng));
    const int p = pick(rng);
    v[i] = p == 0 ? 0.0f : p == 1 ? 8.0f * scale * normal(rng) : scale * normal(rng);
  }
  return v;
}

// Encodes `rows` rows of `cols` floats into `type` with `ops.from_float`, each row `stride`
// bytes apart (stride >= dtype_bytes(type, cols)); the padding holds 0xA5 bytes.
inline std::vector<uint8_t> encode_rows(const TypeOps& ops, const float* x, int64_t rows,
                                        int64_t cols, size_t stride) {
  std::vector<uint8_t> out(rows * stride + 64, 0xA5);
  for (int64_t r = 0; r < rows; ++r) ops.from_float(x + r * cols, out.data() + r * stride, cols);
  return out;
}

inline std::vector<float> decode_rows(const TypeOps& ops, const uint8_t* data, int64_t rows,
                                      int64_t cols, size_t stride) {
  std::vector<float> out(rows * cols);
  for (int64_t r = 0; r < rows; ++r) ops.to_float(data + r * stride, out.data() + r * cols, cols);
  return out;
}

// Checks ops.gemm on one tile against exact (double) dot products of the dequantized operands.
//
// Tolerance: the kernels compute each block's integer dot product exactly (or, for float types,
// each product with one rounding) and add at most `terms` = cols / block_elems block results in
// float, each rounded a few times (scale products, conversion); recursive summation then errs by
// at most (terms + c) * u * sum|term| with u = 2^-24. A block's terms are bounded by
// |d q_i| + |m| <= 3 * max_block|w| per element (for the _1 types m is the block minimum), so
// the bound used is (terms + 16) * 2^-24 * 3 * S with S = sum over blocks of
// max|w| * sum|a|, doubled for margin.
inline void check_gemm(const TypeOps& ops, IsaLevel level, int64_t cols, int num_rows, int num_acts,
                       uint32_t seed) {
  const TypeOps& w_ref = type_ops(ops.type, IsaLevel::kScalar);
  const TypeOps& a_ops = type_ops(ops.act_type, IsaLevel::kScalar);
  const int block = dtype_info(ops.type).block_elems;
  const size_t w_stride = dtype_bytes(ops.type, cols) + 8;  // padded rows
  const size_t a_stride = dtype_bytes(ops.act_type, cols) + 4;
  const size_t out_stride = num_rows + 3;

  const std::vector<float> wf = random_floats(num_rows * cols, seed);
  const std::vector<float> af = random_floats(num_acts * cols, seed + 1);
  const std::vector<uint8_t> w = encode_rows(w_ref, wf.data(), num_rows, cols, w_stride);
  const std::vector<uint8_t> a = encode_rows(a_ops, af.data(), num_acts, cols, a_stride);
  const std::vector<float> wd = decode_rows(w_ref, w.data(), num_rows, cols, w_stride);
  const std::vector<float> ad = decode_rows(a_ops, a.data(), num_acts, cols, a_stride);

  constexpr float kSentinel = -12345.0f;
  std::vector<float> out(num_acts * out_stride, kSentinel);
  ops.gemm(cols, w.data(), w_stride, num_rows, a.data(), a_stride, num_acts, out.data(),
           out_stride);

  const double terms = static_cast<double>(cols) / block;
  for (int j = 0; j < num_acts; ++j) {
    for (int i = 0; i < num_rows; ++i) {
      double exact = 0.0, s = 0.0;
      for (int64_t b = 0; b < cols; b += block) {
        double wmax = 0.0, asum = 0.0;
        for (int64_t k = b; k < b + block; ++k) {
          const double wv = wd[i * cols + k], av = ad[j * cols + k];
          exact += wv * av;
          wmax = std::max(wmax, std::fabs(wv));
          asum += std::fabs(av);
        }
        s += wmax * asum;
      }
      const double tol = 2.0 * (terms + 16) * std::ldexp(1.0, -24) * 3.0 * s + 1e-30;
      EXPECT_NEAR(out[j * out_stride + i], exact, tol)
          << dtype_name(ops.type) << " level " << isa_level_name(level) << " cols " << cols
          << " rows " << num_rows << " acts " << num_acts << " at (" << i << ", " << j << ")";
    }
    for (size_t i = num_rows; i < out_stride; ++i)
      EXPECT_EQ(out[j * out_stride + i], kSentinel) << "gemm wrote outside its tile";
  }
}

}  // namespace inferd::backend::cpu::testing

// Real K-quant data: tensors of llama fixtures quantized by another implementation (Q4_K_M mix
// and Q6_K) must dequantize to approximately the F16 tensors of the same model, and gemm on them
// must approximate the F16 product. This checks our reading of the block layouts against files
// written elsewhere.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/blocks.h"
#include "backend/cpu/type_ops.h"
#include "base/cpu_features.h"
#include "base/half.h"
#include "format/gguf_file.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

using backend::DType;
using backend::cpu::kquant_type_ops;
using backend::cpu::TypeOps;
using format::GgufFile;
using format::GgufTensorInfo;

bool is_kquant(DType t) {
  return t == DType::kQ2_K || t == DType::kQ3_K || t == DType::kQ4_K || t == DType::kQ5_K ||
         t == DType::kQ6_K;
}

std::vector<float> f16_values(const GgufTensorInfo& t) {
  std::vector<float> v(t.num_elements());
  const auto* h = reinterpret_cast<const f16_t*>(t.data);
  for (size_t i = 0; i < v.size(); ++i) v[i] = f16_to_f32(h[i]);
  return v;
}

// Relative RMS error of every K-quant tensor of `quant_file` against the F16 file, per type.
std::map<DType, std::vector<double>> relative_errors(const GgufFile& quant, const GgufFile& f16) {
  std::map<DType, std::vector<double>> errors;
  for (const GgufTensorInfo& t : quant.tensors()) {
    if (!is_kquant(t.type)) continue;
    const GgufTensorInfo* ref = f16.find_tensor(t.name);
    EXPECT_NE(ref, nullptr) << t.name;
    if (!ref) continue;
    EXPECT_EQ(ref->type, DType::kF16) << t.name;
    EXPECT_EQ(ref->dims, t.dims) << t.name;
    if (ref->type != DType::kF16 || ref->dims != t.dims) continue;
    std::vector<float> got(t.num_elements());
    kquant_type_ops(t.type, IsaLevel::kScalar)->to_float(t.data, got.data(), t.num_elements());
    const std::vector<float> want = f16_values(*ref);
    double err = 0, norm = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      err += (got[i] - want[i]) * (got[i] - want[i]);
      norm += want[i] * want[i];
    }
    const double rel = std::sqrt(err / norm);
    errors[t.type].push_back(rel);
    std::printf("%-28s %-5s %-12s rel rms %.4f\n", t.name.c_str(), backend::dtype_name(t.type),
                t.shape_string().c_str(), rel);
  }
  return errors;
}

std::unique_ptr<GgufFile> open_or_fail(const std::filesystem::path& p) {
  auto f = GgufFile::open(p.string());
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  return f.ok() ? std::move(*f) : nullptr;
}

TEST(KquantGguf, Q4KMTensorsApproximateF16) {
  INFERD_REQUIRE_SHARED(f16_path, "fixtures/fixture-llama-f16.gguf");
  INFERD_REQUIRE_SHARED(q_path, "fixtures/fixture-llama-q4_k_m.gguf");
  auto f16 = open_or_fail(f16_path);
  auto quant = open_or_fail(q_path);
  ASSERT_TRUE(f16 && quant);
  const auto errors = relative_errors(*quant, *f16);
  ASSERT_TRUE(errors.count(DType::kQ4_K));
  ASSERT_TRUE(errors.count(DType::kQ6_K));
  // A misread layout gives errors of order 1; 4-bit codes give about 7%, 6-bit about 2%.
  for (double e : errors.at(DType::kQ4_K)) EXPECT_LT(e, 0.09);
  for (double e : errors.at(DType::kQ6_K)) EXPECT_LT(e, 0.025);
}

TEST(KquantGguf, Q6KTensorsApproximateF16) {
  INFERD_REQUIRE_SHARED(f16_path, "fixtures/fixture-llama-f16.gguf");
  INFERD_REQUIRE_SHARED(q_path, "fixtures/fixture-llama-q6_k.gguf");
  auto f16 = open_or_fail(f16_path);
  auto quant = open_or_fail(q_path);
  ASSERT_TRUE(f16 && quant);
  const auto errors = relative_errors(*quant, *f16);
  ASSERT_EQ(errors.size(), 1u);
  ASSERT_TRUE(errors.count(DType::kQ6_K));
  for (double e : errors.at(DType::kQ6_K)) EXPECT_LT(e, 0.025);
}

double relative_distance(const std::vector<double>& got, const std::vector<double>& want) {
  double err = 0, norm = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    err += (got[i] - want[i]) * (got[i] - want[i]);
    norm += want[i] * want[i];
  }
  return std::sqrt(err / norm);
}

// gemm at every level on the file's own blocks against (a) the product with the dequantized
// weights, where only the Q8_K activation rounding differs, and (b) the product with the F16
// weights, where the weight quantization adds its error.
void check_gemm_on_tensor(const GgufFile& quant, const GgufFile& f16, const std::string& name,
                          double max_weight_error) {
  const GgufTensorInfo* t = quant.find_tensor(name);
  const GgufTensorInfo* ref = f16.find_tensor(name);
  ASSERT_TRUE(t && ref) << name;
  ASSERT_TRUE(is_kquant(t->type)) << name;
  const int64_t n = t->dims[0], rows = t->num_rows();
  const size_t row_bytes = static_cast<size_t>(backend::dtype_bytes(t->type, n));
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);

  std::vector<float> deq(n);
  const std::vector<float> w16 = f16_values(*ref);
  std::vector<double> want_deq(rows), want_f16(rows);
  const TypeOps& scalar = *kquant_type_ops(t->type, IsaLevel::kScalar);
  for (int64_t r = 0; r < rows; ++r) {
    scalar.to_float(t->data + r * row_bytes, deq.data(), n);
    for (int64_t e = 0; e < n; ++e) {
      want_deq[r] += static_cast<double>(deq[e]) * x[e];
      want_f16[r] += static_cast<double>(w16[r * n + e]) * x[e];
    }
  }
  for (IsaLevel level : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512}) {
    if (level > cpu_features().level) continue;
    SCOPED_TRACE(::testing::Message() << name << " " << isa_level_name(level));
    const TypeOps& ops = *kquant_type_ops(t->type, level);
    std::vector<uint8_t> xq(static_cast<size_t>(backend::dtype_bytes(DType::kQ8_K, n)));
    kquant_type_ops(DType::kQ8_K, level)->from_float(x.data(), xq.data(), n);
    std::vector<float> y(rows);
    for (int64_t r = 0; r < rows; r += ops.max_rows)
      ops.gemm(n, t->data + r * row_bytes, row_bytes,
               static_cast<int>(std::min<int64_t>(ops.max_rows, rows - r)), xq.data(), 0, 1,
               y.data() + r, 0);
    const std::vector<double> got(y.begin(), y.end());
    EXPECT_LT(relative_distance(got, want_deq), 0.015);
    EXPECT_LT(relative_distance(got, want_f16), max_weight_error + 0.015);
  }
}

TEST(KquantGguf, GemmOnFileBlocksApproximatesF16Product) {
  INFERD_REQUIRE_SHARED(f16_path, "fixtures/fixture-llama-f16.gguf");
  INFERD_REQUIRE_SHARED(q4_path, "fixtures/fixture-llama-q4_k_m.gguf");
  INFERD_REQUIRE_SHARED(q6_path, "fixtures/fixture-llama-q6_k.gguf");
  auto f16 = open_or_fail(f16_path);
  auto q4 = open_or_fail(q4_path);
  auto q6 = open_or_fail(q6_path);
  ASSERT_TRUE(f16 && q4 && q6);
  check_gemm_on_tensor(*q4, *f16, "blk.0.attn_q.weight", 0.09);     // Q4_K
  check_gemm_on_tensor(*q4, *f16, "blk.0.ffn_down.weight", 0.09);   // Q4_K, 768 columns
  check_gemm_on_tensor(*q4, *f16, "blk.1.ffn_down.weight", 0.025);  // Q6_K
  check_gemm_on_tensor(*q6, *f16, "blk.0.ffn_gate.weight", 0.025);  // Q6_K
}

// Our round-to-nearest quantizer on the F16 weights: within a small factor of the files' own
// (search-based) quantization error, for every K-quant type.
TEST(KquantGguf, OwnQuantizerOnRealWeights) {
  INFERD_REQUIRE_SHARED(f16_path, "fixtures/fixture-llama-f16.gguf");
  auto f16 = open_or_fail(f16_path);
  ASSERT_TRUE(f16);
  const GgufTensorInfo* t = f16->find_tensor("blk.0.ffn_up.weight");
  ASSERT_NE(t, nullptr);
  const std::vector<float> w = f16_values(*t);
  const int64_t n = t->num_elements();
  const std::pair<DType, double> bounds[] = {{DType::kQ2_K, 0.40},
                                             {DType::kQ3_K, 0.20},
                                             {DType::kQ4_K, 0.09},
                                             {DType::kQ5_K, 0.045},
                                             {DType::kQ6_K, 0.025}};
  for (const auto& [type, bound] : bounds) {
    const TypeOps& ops = *kquant_type_ops(type, IsaLevel::kScalar);
    std::vector<uint8_t> q(static_cast<size_t>(backend::dtype_bytes(type, n)));
    std::vector<float> y(n);
    ops.from_float(w.data(), q.data(), n);
    ops.to_float(q.data(), y.data(), n);
    double err = 0, norm = 0;
    for (int64_t i = 0; i < n; ++i) {
      err += (y[i] - w[i]) * (y[i] - w[i]);
      norm += w[i] * w[i];
    }
    const double rel = std::sqrt(err / norm);
    std::printf("own %-5s rel rms %.4f\n", backend::dtype_name(type), rel);
    EXPECT_LT(rel, bound) << backend::dtype_name(type);
  }
}

}  // namespace
}  // namespace inferd

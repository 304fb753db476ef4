// Memory of MLX directories with 2/3/5/6-bit weights: their codes stay at the file's width in
// memory (no widening to bytes at load), so a 3-bit model's quantized weights take 3/8 of the
// code bytes the same model takes at 8 bits, and every quantized tensor loads into its own type.
// MLX models hold their weights once: where this CPU has panel kernels (4- and 8-bit), the panels
// replace the blocks of the matrices they pack, so the resident weight bytes stay close to the
// safetensors bytes; and the registry's memory estimate of MLX directories covers what they hold
// (MlxFootprint).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "backend/cpu/panel_ops.h"
#include "backend/mlx_affine.h"
#include "model/model.h"
#include "model/model_export.h"
#include "model/synth_model.h"
#include "server/registry/model_footprint.h"
#include "testing/test_paths.h"

namespace inferd::model {
namespace {

using backend::DType;

struct QuantBytes {
  int64_t total_bytes = 0;   // loaded bytes of the MLX-quantized tensors
  int64_t header_bytes = 0;  // of which scales and biases (8 bytes a group)
  int64_t num_tensors = 0;
};

// Loads `model` exported as the MLX directory `format` and sums its quantized tensors.
QuantBytes quantized_bytes(const Model& source, const std::string& format, const std::string& dir) {
  QuantBytes q;
  const auto dir_format = parse_hf_dir_format(format);
  EXPECT_TRUE(dir_format.has_value()) << format;
  if (!dir_format) return q;
  Status st = export_hf_dir(source, *dir_format, dir);
  EXPECT_TRUE(st.ok()) << st.to_string();
  auto m = Model::load(dir);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  if (!m.ok()) return q;
  const DType want = *backend::mlx_affine_type(*dir_format->quant);
  for (const TensorInfo& t : (*m)->tensors().tensors()) {
    if (!backend::mlx_affine_spec(t.type)) continue;
    EXPECT_EQ(t.type, want) << t.name;
    q.total_bytes += static_cast<int64_t>(t.size_bytes);
    q.header_bytes += static_cast<int64_t>(t.num_elements()) / dir_format->quant->group_size * 8;
    ++q.num_tensors;
  }
  return q;
}

// A small random-weight F32 model of `arch` written into `dir` and loaded.
Result<std::unique_ptr<Model>> small_source(const std::filesystem::path& dir,
                                            const char* arch = "llama") {
  SynthOptions opt;
  opt.arch = arch;
  opt.dim = 128;
  opt.layers = 2;
  opt.heads = 4;
  opt.kv_heads = 2;
  opt.ffn = 256;
  opt.vocab = 320;
  opt.context = 64;
  opt.type = DType::kF32;
  opt.seed = 5;
  const std::string synth = (dir / "synth.gguf").string();
  INFERD_RETURN_IF_ERROR(write_synth_model(opt, synth));
  return Model::load(synth);
}

TEST(MlxLowBitMemory, ThreeBitCodesTakeThreeEighthsOfTheEightBitBytes) {
  const auto dir = testing::temp_dir();
  auto source = small_source(dir);
  ASSERT_TRUE(source.ok()) << source.status().to_string();

  const QuantBytes q3 = quantized_bytes(**source, "mlx_q3_g64", (dir / "q3").string());
  const QuantBytes q6 = quantized_bytes(**source, "mlx_q6_g64", (dir / "q6").string());
  const QuantBytes q8 = quantized_bytes(**source, "mlx_q8_g64", (dir / "q8").string());
  ASSERT_GT(q8.num_tensors, 0);
  EXPECT_EQ(q3.num_tensors, q8.num_tensors);
  EXPECT_EQ(q6.num_tensors, q8.num_tensors);
  EXPECT_EQ(q3.header_bytes, q8.header_bytes);
  // The codes: exactly 3/8 and 6/8 of the 8-bit ones (what 3-bit weights widened to bytes took).
  EXPECT_EQ((q3.total_bytes - q3.header_bytes) * 8, (q8.total_bytes - q8.header_bytes) * 3);
  EXPECT_EQ((q6.total_bytes - q6.header_bytes) * 8, (q8.total_bytes - q8.header_bytes) * 6);
  // With the f32 scale and bias of every 64 weights: 32 of 72 bytes a group.
  EXPECT_EQ(q3.total_bytes * 72, q8.total_bytes * 32);
}

struct FootprintCase {
  const char* arch;
  const char* format;
};

// A loaded MLX directory holds its weights once: the tensors it keeps plus the panels that
// replace the others come to the tensors' loaded bytes, plus a tied output's panels (the token
// embedding keeps its blocks for row lookups); that is the safetensors bytes up to the f32
// widening of scales and biases (at most 1/8 for 4- and 8-bit groups of 64), not twice them.
// The model registry's estimate covers it closely.
class MlxFootprint : public ::testing::TestWithParam<FootprintCase> {};

TEST_P(MlxFootprint, EstimateCoversTheResidentWeights) {
  const FootprintCase c = GetParam();
  const auto dir = testing::temp_dir();
  auto source = small_source(dir, c.arch);
  ASSERT_TRUE(source.ok()) << source.status().to_string();
  const auto dir_format = parse_hf_dir_format(c.format);
  ASSERT_TRUE(dir_format.has_value());
  const std::string out = (dir / c.format).string();
  ASSERT_TRUE(export_hf_dir(**source, *dir_format, out).ok());

  auto loaded = Model::load(out);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  const Model& m = **loaded;
  const uint64_t tensors = m.weights().total_bytes;
  const uint64_t resident = m.resident_weight_bytes();
  const auto type = backend::mlx_affine_load_type(*dir_format->quant);
  ASSERT_TRUE(type.has_value());
  const bool panels = backend::cpu::panel_ops(*type) != nullptr;
  const bool tied = m.tensors().find_tensor("output.weight") == nullptr;
  const uint64_t embd_bytes = m.tensors().find_tensor("token_embd.weight")->size_bytes;
  // Every dimension of the model is a multiple of 64 rows: panels take their blocks' bytes.
  EXPECT_EQ(resident, tensors + (panels && tied ? embd_bytes : 0));
  EXPECT_EQ(m.tensors().held_bytes() < tensors, panels);
  if (!tied && dir_format->quant->group_size >= 64) {
    const uint64_t file_bytes = m.file_size_bytes();
    EXPECT_LE(resident, file_bytes * 9 / 8);
    EXPECT_GE(resident, file_bytes * 9 / 10);
  }

  server::ServedModelOptions o;
  o.path = out;
  auto estimate = server::estimate_footprint(o);
  ASSERT_TRUE(estimate.ok()) << estimate.status().to_string();
  EXPECT_GE(estimate->weight_bytes, resident);
  EXPECT_LE(estimate->weight_bytes, resident * 11 / 10);
}

INSTANTIATE_TEST_SUITE_P(Formats, MlxFootprint,
                         ::testing::Values(FootprintCase{"llama", "mlx_q4_g64"},
                                           FootprintCase{"llama", "mlx_q8_g64"},
                                           FootprintCase{"llama", "mlx_q4_g32"},
                                           FootprintCase{"llama", "mlx_q3_g64"},
                                           FootprintCase{"gemma3", "mlx_q4_g64"}),
                         [](const ::testing::TestParamInfo<FootprintCase>& info) {
                           return std::string(info.param.arch) + "_" + info.param.format;
                         });

}  // namespace
}  // namespace inferd::model

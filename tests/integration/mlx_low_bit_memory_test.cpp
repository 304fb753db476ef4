// Memory of MLX directories with 2/3/5/6-bit weights: their codes stay at the file's width in
// memory (no widening to bytes at load), so a 3-bit model's quantized weights take 3/8 of the
// code bytes the same model takes at 8 bits, and every quantized tensor loads into its own type.
// The registry's memory estimate of MLX directories covers what they hold (MlxFootprint).
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

// A small random-weight F32 llama model written into `dir` and loaded.
Result<std::unique_ptr<Model>> small_source(const std::filesystem::path& dir) {
  SynthOptions opt;
  opt.arch = "llama";
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

// The model registry's memory estimate of an MLX directory covers the weight memory the loaded
// model holds: its tensors and, where this CPU has panel kernels for their type, the panel
// copies of its matrices (which a directory's heap tensors cannot share with a file mapping).
TEST(MlxFootprint, EstimateCoversTheResidentWeights) {
  const auto dir = testing::temp_dir();
  auto source = small_source(dir);
  ASSERT_TRUE(source.ok()) << source.status().to_string();
  for (const char* format : {"mlx_q4_g64", "mlx_q3_g64"}) {
    SCOPED_TRACE(format);
    const auto dir_format = parse_hf_dir_format(format);
    ASSERT_TRUE(dir_format.has_value());
    const std::string out = (dir / format).string();
    ASSERT_TRUE(export_hf_dir(**source, *dir_format, out).ok());

    auto loaded = Model::load(out);
    ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
    const uint64_t tensors = (*loaded)->weights().total_bytes;
    const uint64_t resident = (*loaded)->resident_weight_bytes();
    const auto type = backend::mlx_affine_load_type(*dir_format->quant);
    ASSERT_TRUE(type.has_value());
    if (backend::cpu::panel_ops(*type))
      EXPECT_GT(resident, tensors * 3 / 2);
    else
      EXPECT_EQ(resident, tensors);

    server::ServedModelOptions o;
    o.path = out;
    auto estimate = server::estimate_footprint(o);
    ASSERT_TRUE(estimate.ok()) << estimate.status().to_string();
    EXPECT_GE(estimate->weight_bytes, resident);
    EXPECT_LE(estimate->weight_bytes, resident * 3 / 2);
  }
}

}  // namespace
}  // namespace inferd::model

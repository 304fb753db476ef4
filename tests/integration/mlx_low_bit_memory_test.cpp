// Memory of MLX directories with 2/3/5/6-bit weights: their codes stay at the file's width in
// memory (no widening to bytes at load), so a 3-bit model's quantized weights take 3/8 of the
// code bytes the same model takes at 8 bits, and every quantized tensor loads into its own type.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "backend/mlx_affine.h"
#include "model/model.h"
#include "model/model_export.h"
#include "model/synth_model.h"
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

TEST(MlxLowBitMemory, ThreeBitCodesTakeThreeEighthsOfTheEightBitBytes) {
  const auto dir = testing::temp_dir();
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
  ASSERT_TRUE(write_synth_model(opt, synth).ok());
  auto source = Model::load(synth);
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

}  // namespace
}  // namespace inferd::model

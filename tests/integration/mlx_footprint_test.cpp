// The model registry's memory estimate of an MLX directory covers the weight memory the loaded
// model holds: its tensors and, where this CPU has panel kernels for their type, the panel
// copies of its matrices (which a directory's heap tensors cannot share with a file mapping).
#include <gtest/gtest.h>

#include "backend/cpu/panel_ops.h"
#include "backend/mlx_affine.h"
#include "model/model.h"
#include "model/model_export.h"
#include "model/synth_model.h"
#include "server/registry/model_footprint.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

TEST(MlxFootprint, EstimateCoversTheResidentWeights) {
  const auto dir = testing::temp_dir();
  model::SynthOptions opt;
  opt.dim = 128;
  opt.layers = 2;
  opt.heads = 4;
  opt.kv_heads = 2;
  opt.ffn = 256;
  opt.vocab = 320;
  opt.context = 64;
  opt.type = backend::DType::kF32;
  const std::string synth = (dir / "synth.gguf").string();
  ASSERT_TRUE(model::write_synth_model(opt, synth).ok());
  auto source = model::Model::load(synth);
  ASSERT_TRUE(source.ok()) << source.status().to_string();
  for (const char* format : {"mlx_q4_g64", "mlx_q3_g64"}) {
    SCOPED_TRACE(format);
    const auto dir_format = model::parse_hf_dir_format(format);
    ASSERT_TRUE(dir_format.has_value());
    const std::string out = (dir / format).string();
    ASSERT_TRUE(model::export_hf_dir(**source, *dir_format, out).ok());

    auto loaded = model::Model::load(out);
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
}  // namespace inferd

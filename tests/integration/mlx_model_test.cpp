// Acceptance of Hugging Face / MLX model directories: a random model written by inferd as an MLX
// directory (4-bit group 64, 8-bit group 32, BF16, and 2/3/5/6-bit ones) gives the same logits
// through the directory loader and the MLX kernels as the same weights dequantized and written as a
// GGUF F32 file give through the GGUF path. Covers llama (whose GGUF q/k rows are permuted for
// interleaved RoPE while HF's are half-split), qwen3 and gemma3 (q/k norms), gemma2/3 (HF's 1 + w
// norms), qwen2 (q/k/v biases) and phi3 (fused qkv and gate/up matrices).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "backend/mlx_affine.h"
#include "base/thread_pool.h"
#include "format/safetensors_set.h"
#include "model/hf_model_dir.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "model/model_export.h"
#include "model/synth_model.h"
#include "testing/test_paths.h"

namespace inferd::model {
namespace {

using backend::DType;

std::vector<float> logits_of(const Model& m, const std::vector<int32_t>& tokens) {
  const HParams& hp = m.hparams();
  KvCache kv(hp, 4, 16, 1);
  const std::vector<int32_t> table{0, 1, 2, 3};
  kv.set_table(0, table);
  ForwardScratch scratch(hp, static_cast<int64_t>(tokens.size()), 64, 2);
  ThreadPool pool(2);
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < tokens.size(); ++i)
    batch.push_back(
        {.token = tokens[i], .pos = static_cast<int32_t>(i), .seq = 0, .want_logits = true});
  std::vector<float> logits(tokens.size() * hp.n_vocab);
  Status st = m.transformer().forward(batch, kv, scratch, pool, logits.data());
  EXPECT_TRUE(st.ok()) << st.to_string();
  return logits;
}

struct Case {
  const char* arch;
  const char* type;
};

class MlxModelTest : public ::testing::TestWithParam<Case> {};

TEST_P(MlxModelTest, DirectoryLogitsMatchDequantizedGgufF32) {
  const Case c = GetParam();
  const auto dir = testing::temp_dir();
  SynthOptions opt;
  opt.arch = c.arch;
  opt.dim = 128;
  opt.layers = 2;
  opt.heads = 4;
  opt.kv_heads = 2;
  opt.ffn = 256;
  opt.vocab = 320;
  opt.context = 256;
  opt.type = DType::kF32;
  opt.seed = 7;
  const std::string synth = (dir / "synth.gguf").string();
  ASSERT_TRUE(write_synth_model(opt, synth).ok());
  auto source = Model::load(synth);
  ASSERT_TRUE(source.ok()) << source.status().to_string();

  const std::string mlx_dir = (dir / "mlx").string();
  const auto dir_format = parse_hf_dir_format(c.type);
  ASSERT_TRUE(dir_format.has_value());
  Status st = export_hf_dir(**source, *dir_format, mlx_dir);
  ASSERT_TRUE(st.ok()) << st.to_string();
  auto mlx = Model::load(mlx_dir);
  ASSERT_TRUE(mlx.ok()) << mlx.status().to_string();
  EXPECT_EQ((*mlx)->gguf(), nullptr);
  EXPECT_EQ((*mlx)->hparams().rope_style, RopeStyle::kNeox);
  EXPECT_EQ((*mlx)->eos_token_ids(), std::vector<int32_t>{2});
  // Quantized directories hold U32 codes with scales and biases, and load into MLX block types.
  const auto* q = (*mlx)->hf_dir()->weights_files().find("model.layers.0.mlp.down_proj.weight");
  ASSERT_NE(q, nullptr);
  const bool quantized = dir_format->quant.has_value();
  const DType loaded =
      quantized ? *backend::mlx_affine_load_type(*dir_format->quant) : DType::kBF16;
  EXPECT_EQ(q->dtype, quantized ? format::SafetensorsDType::kU32 : format::SafetensorsDType::kBF16);
  EXPECT_EQ((*mlx)->tensors().find_tensor("blk.0.ffn_down.weight")->type, loaded);
  EXPECT_EQ((*mlx)->tensors().find_tensor("token_embd.weight")->type, loaded);

  const std::string f32 = (dir / "dequantized.gguf").string();
  st = export_gguf(**mlx, DType::kF32, f32);
  ASSERT_TRUE(st.ok()) << st.to_string();
  auto reference = Model::load(f32);
  ASSERT_TRUE(reference.ok()) << reference.status().to_string();
  EXPECT_NE((*reference)->gguf(), nullptr);

  const std::vector<int32_t> tokens{1, 5, 17, 42, 99, 200, 7, 3, 319, 64, 128};
  const auto want = logits_of(**reference, tokens);
  const auto got = logits_of(**mlx, tokens);
  ASSERT_EQ(want.size(), got.size());
  float scale = 0.0f, max_diff = 0.0f;
  for (size_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, std::fabs(want[i]));
    max_diff = std::max(max_diff, std::fabs(want[i] - got[i]));
  }
  ASSERT_GT(scale, 0.0f);
  // Both paths multiply the same f32 weights with f32 activations and differ at most in float
  // summation order, but keys and values are stored as F16, where such a difference can flip one
  // rounding (5e-4 relative): hence 2e-3 of the largest logit, far below quantization error.
  EXPECT_LE(max_diff, 2e-3f * scale) << c.arch << " " << c.type << ": max |logit| " << scale;

  // The quantized model stays near the original F32 weights' logits (quantization error only).
  const auto original = logits_of(**source, tokens);
  float orig_diff = 0.0f;
  for (size_t i = 0; i < want.size(); ++i)
    orig_diff = std::max(orig_diff, std::fabs(original[i] - got[i]));
  const int bits = quantized ? dir_format->quant->bits : 16;
  EXPECT_LE(orig_diff, (bits >= 8 ? 0.1f : bits >= 4 ? 0.5f : 2.0f) * scale);
}

INSTANTIATE_TEST_SUITE_P(Families, MlxModelTest,
                         ::testing::Values(Case{"llama", "mlx_q4_g64"}, Case{"llama", "mlx_q8_g32"},
                                           Case{"llama", "bf16"}, Case{"qwen3", "mlx_q4_g64"},
                                           Case{"qwen3", "mlx_q8_g32"}, Case{"qwen3", "bf16"},
                                           Case{"gemma2", "mlx_q4_g64"}, Case{"gemma2", "bf16"},
                                           Case{"gemma3", "mlx_q4_g64"},
                                           Case{"qwen2", "mlx_q4_g64"}, Case{"phi3", "mlx_q8_g32"},
                                           Case{"llama", "mlx_q2_g128"},
                                           Case{"llama", "mlx_q3_g64"}, Case{"qwen3", "mlx_q5_g32"},
                                           Case{"llama", "mlx_q6_g64"}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.arch) + "_" + info.param.type;
                         });

}  // namespace
}  // namespace inferd::model

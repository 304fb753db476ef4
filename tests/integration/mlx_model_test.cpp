// Acceptance of Hugging Face / MLX model directories: a random model written by inferd as an MLX
// directory (4-bit group 64, 8-bit group 32, BF16, and 2/3/5/6-bit ones, whose codes stay at
// their width in memory) gives the same logits through the directory loader and the MLX kernels
// as the same weights dequantized and written as a GGUF F32 file give through the GGUF path (for
// quantized directories, up to the error of the int8 activations the MLX kernels use, measured
// against GGUF Q8_0). Covers llama (whose GGUF q/k rows are permuted for interleaved RoPE while
// HF's are half-split), qwen3 and gemma3 (q/k norms), gemma2/3 (HF's 1 + w norms), qwen2 (q/k/v
// biases) and phi3 (fused qkv and gate/up matrices).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "backend/cpu/panel_ops.h"
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

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
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
  auto mlx = Model::load(mlx_dir, {.keep_tensors = true});  // exported below
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

  // Loaded for serving, every matrix tensor with panels (this CPU's kernels permitting) but the
  // token embedding is released; the model computes the same logits from the panels alone.
  auto served = Model::load(mlx_dir);
  ASSERT_TRUE(served.ok()) << served.status().to_string();
  for (const TensorInfo& t : (*served)->tensors().tensors()) {
    const auto* ops = backend::cpu::panel_ops(t.type);
    const bool packed = ops && t.num_dims == 2 && t.dims[0] % ops->group_elems == 0;
    EXPECT_EQ(t.data == nullptr, packed && t.name != "token_embd.weight") << t.name;
  }
  EXPECT_EQ(logits_of(**served, tokens), got);
  const auto export_released = export_gguf(**served, DType::kF32, (dir / "released.gguf").string());
  if ((*served)->tensors().held_bytes() < (*served)->tensors().tensor_bytes()) {
    EXPECT_EQ(export_released.code(), StatusCode::kInvalidArgument) << export_released.to_string();
  }
  ASSERT_EQ(want.size(), got.size());
  float scale = 0.0f;
  for (float v : want) scale = std::max(scale, std::fabs(v));
  ASSERT_GT(scale, 0.0f);
  const float max_diff = max_abs_diff(want, got);
  // Keys and values are stored as F16, where a float summation-order difference can flip one
  // rounding (5e-4 relative): hence a floor of 2e-3 of the largest logit, far below quantization
  // error.
  const float kv_floor = 2e-3f * scale;
  if (!quantized) {
    // BF16 weights multiply f32 activations on both paths: the same products up to float
    // summation order.
    EXPECT_LE(max_diff, kv_floor) << c.arch << " " << c.type << ": max |logit| " << scale;
  } else {
    // MLX kernels multiply the exact weights with int8-quantized (Q8_0) activations, the GGUF F32
    // path with f32 ones, so the two differ by the activation quantization error. Its yardstick is
    // the same weights as GGUF Q8_0, whose kernels quantize activations alike (and add 8-bit weight
    // rounding): the MLX path must stay within twice that model's own deviation from F32. The MLX
    // kernels themselves equal their scalar reference up to float summation order
    // (MlxAffine.SimdMatchesReference in mlx_affine_ops_test.cpp).
    const std::string q8 = (dir / "q8_0.gguf").string();
    st = export_gguf(**mlx, DType::kQ8_0, q8);
    ASSERT_TRUE(st.ok()) << st.to_string();
    auto q8_model = Model::load(q8);
    ASSERT_TRUE(q8_model.ok()) << q8_model.status().to_string();
    const float q8_diff = max_abs_diff(want, logits_of(**q8_model, tokens));
    RecordProperty("max_abs_logit", std::to_string(scale));
    RecordProperty("mlx_vs_f32", std::to_string(max_diff));
    RecordProperty("q8_0_vs_f32", std::to_string(q8_diff));
    EXPECT_LE(max_diff, 2.0f * q8_diff + kv_floor) << c.arch << " " << c.type << ": max |logit| "
                                                   << scale << ", Q8_0 GGUF deviation " << q8_diff;
  }

  // The quantized model stays near the original F32 weights' logits (quantization error only).
  const auto original = logits_of(**source, tokens);
  const float orig_diff = max_abs_diff(original, got);
  const int bits = quantized ? dir_format->quant->bits : 16;
  EXPECT_LE(orig_diff, (bits >= 8 ? 0.1f : bits >= 4 ? 0.5f : 2.0f) * scale);
}

INSTANTIATE_TEST_SUITE_P(
    Families, MlxModelTest,
    ::testing::Values(
        Case{"llama", "mlx_q4_g64"}, Case{"llama", "mlx_q8_g32"}, Case{"llama", "bf16"},
        Case{"qwen3", "mlx_q4_g64"}, Case{"qwen3", "mlx_q8_g32"}, Case{"qwen3", "bf16"},
        Case{"gemma2", "mlx_q4_g64"}, Case{"gemma2", "bf16"}, Case{"gemma3", "mlx_q4_g64"},
        Case{"qwen2", "mlx_q4_g64"}, Case{"phi3", "mlx_q8_g32"}, Case{"llama", "mlx_q2_g128"},
        Case{"llama", "mlx_q3_g64"}, Case{"qwen3", "mlx_q5_g32"}, Case{"llama", "mlx_q6_g64"},
        Case{"llama", "mlx_q3_g32"}, Case{"gemma3", "mlx_q3_g128"}, Case{"qwen2", "mlx_q6_g128"},
        Case{"phi3", "mlx_q6_g32"}, Case{"qwen3", "mlx_q2_g64"}, Case{"llama", "mlx_q5_g128"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(info.param.arch) + "_" + info.param.type;
    });

}  // namespace
}  // namespace inferd::model

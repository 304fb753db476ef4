// `inferd quantize` keeps a model's RoPE scaling: a directory's rope_scaling (llama3, longrope,
// yarn, linear, dynamic) is written as it was to the directories made from it, LongRoPE lists
// become GGUF factor tensors and back, and every copy computes the source's logits (F32 weights,
// so the only differences are float rounding). Dynamic scaling has no GGUF form and is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "model/hparams.h"
#include "model/model.h"
#include "model/model_export.h"
#include "model/synth_model.h"
#include "testing/model_logits.h"
#include "testing/test_paths.h"

namespace inferd::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::last_logits;
using testing::max_abs_diff;

// Copies in the same layout compute the same floats; GGUF's interleaved RoPE pairs sum q.k in
// another order, which can move an f16 rounding of the attention (2^-11 of a probability).
constexpr float kTolerance = 1e-4f, kGgufTolerance = 1e-3f;

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

void write_json(const fs::path& p, const json& j) {
  std::ofstream(p) << j.dump(2);
}

std::unique_ptr<Model> load(const fs::path& p) {
  auto m = Model::load(p.string());
  EXPECT_TRUE(m.ok()) << p << ": " << m.status().to_string();
  return m.ok() ? std::move(*m) : nullptr;
}

struct RopeCase {
  const char* name;
  json rope_scaling;
  RopeScaling expect;
  bool in_gguf;  // GGUF can record it
};

std::vector<float> factors(float first, float step) {
  std::vector<float> v;
  for (int i = 0; i < 16; ++i) v.push_back(first + step * static_cast<float>(i));
  return v;
}

class RopeScalingExportTest : public ::testing::TestWithParam<RopeCase> {};

TEST_P(RopeScalingExportTest, ConversionsKeepTheScaling) {
  const RopeCase& c = GetParam();
  const fs::path dir = inferd::testing::temp_dir();
  SynthOptions opt;
  opt.dim = 128;
  opt.heads = 4;
  opt.kv_heads = 2;
  opt.ffn = 256;
  opt.vocab = 512;
  opt.context = 256;
  opt.type = backend::DType::kF32;
  ASSERT_TRUE(write_synth_model(opt, (dir / "synth.gguf").string()).ok());
  auto synth = load(dir / "synth.gguf");
  ASSERT_TRUE(synth);
  const fs::path source = dir / "source";
  ASSERT_TRUE(export_hf_dir(*synth, *parse_hf_dir_format("f32"), source.string()).ok());
  json config = read_json(source / "config.json");
  config["rope_scaling"] = c.rope_scaling;
  config["original_max_position_embeddings"] = 64;  // LongRoPE's factor: 256 / 64
  write_json(source / "config.json", config);

  const std::vector<float> plain = last_logits(dir / "synth.gguf"), expected = last_logits(source);
  ASSERT_FALSE(expected.empty());
  EXPECT_GT(max_abs_diff(plain, expected), 1e-3f) << "the scaling changes the logits";
  auto model = load(source);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->hparams().rope_scaling, c.expect);

  // Directory to directory (quantized too): config.json's rope_scaling as the source wrote it.
  for (const char* format : {"f32", "mlx_q8_g32"}) {
    const fs::path out = dir / (std::string("dir_") + format);
    const Status st = export_hf_dir(*model, *parse_hf_dir_format(format), out.string());
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_EQ(read_json(out / "config.json")["rope_scaling"], c.rope_scaling);
    auto copy = load(out);
    ASSERT_TRUE(copy);
    EXPECT_EQ(copy->hparams().rope_scaling, c.expect);
  }
  EXPECT_LT(max_abs_diff(last_logits(dir / "dir_f32"), expected), kTolerance);

  // Directory to GGUF, and for LongRoPE back from GGUF to a directory.
  const fs::path gguf = dir / "copy.gguf";
  const Status st = export_gguf(*model, backend::DType::kF32, gguf.string());
  if (!c.in_gguf) {
    EXPECT_EQ(st.code(), StatusCode::kUnsupported);
    EXPECT_NE(st.message().find("dynamic"), std::string::npos) << st.message();
    return;
  }
  ASSERT_TRUE(st.ok()) << st.to_string();
  auto from_gguf = load(gguf);
  ASSERT_TRUE(from_gguf);
  EXPECT_EQ(from_gguf->hparams().rope_scaling, c.expect);
  EXPECT_NEAR(from_gguf->hparams().rope_attn_factor, model->hparams().rope_attn_factor, 1e-6);
  EXPECT_LT(max_abs_diff(last_logits(gguf), expected), kGgufTolerance);
  if (c.expect != RopeScaling::kLongRope) return;
  const fs::path back = dir / "back";
  const Status back_st = export_hf_dir(*from_gguf, *parse_hf_dir_format("f32"), back.string());
  ASSERT_TRUE(back_st.ok()) << back_st.to_string();
  const json rs = read_json(back / "config.json")["rope_scaling"];
  EXPECT_EQ(rs["long_factor"], c.rope_scaling["long_factor"]);
  EXPECT_EQ(rs["short_factor"], c.rope_scaling["short_factor"]);
  EXPECT_LT(max_abs_diff(last_logits(back), expected), kGgufTolerance);
}

INSTANTIATE_TEST_SUITE_P(
    Scalings, RopeScalingExportTest,
    ::testing::Values(
        RopeCase{"llama3",
                 {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                  {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}},
                 RopeScaling::kNone, true},
        RopeCase{"longrope",
                 {{"type", "longrope"}, {"long_factor", factors(1.0f, 0.5f)},
                  {"short_factor", factors(1.0f, 0.1f)}},
                 RopeScaling::kLongRope, true},
        RopeCase{"yarn",
                 {{"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 64}},
                 RopeScaling::kYarn, true},
        RopeCase{"linear", {{"rope_type", "linear"}, {"factor", 2.0}}, RopeScaling::kLinear, true},
        RopeCase{"dynamic", {{"rope_type", "dynamic"}, {"factor", 2.0}}, RopeScaling::kDynamic,
                 false}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace inferd::model

// Phi-3 LongRoPE in GGUF files (rope_factors_long / rope_factors_short tensors, an original
// context and an attention factor in the metadata), checked on variants of the phi3 fixture:
// factors of 2 on every frequency are linear scaling by 2; the long list applies when the
// context exceeds the original one, the short list otherwise; the attention factor defaults to
// sqrt(1 + ln(factor) / ln(original context)).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "format/gguf_file.h"
#include "format/gguf_writer.h"
#include "inferd/engine.h"
#include "model/model.h"
#include "testing/model_logits.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

using testing::last_logits;
using testing::max_abs_diff;

constexpr const char* kFixture = "fixtures/fixture-phi3-q8_0.gguf";

// A copy of `from` with its metadata edited and, when long_f > 0, constant LongRoPE factor
// tensors of `half` values.
void write_variant(const std::filesystem::path& from, const std::filesystem::path& to,
                   const std::function<void(format::GgufWriter&)>& edit, int64_t half,
                   float long_f = 0, float short_f = 0) {
  auto src = format::GgufFile::open(from.string());
  ASSERT_TRUE(src.ok()) << src.status().to_string();
  format::GgufWriter w;
  for (const auto& [key, value] : (*src)->metadata())
    if (key != "general.alignment") w.set(key, value);
  for (const auto& t : (*src)->tensors())
    w.add_tensor_bytes(t.name, t.type, std::vector<int64_t>(t.dims.begin(), t.dims.begin() + t.num_dims),
                       std::vector<uint8_t>(t.data, t.data + t.size_bytes));
  const auto constant = [half](float v) {
    std::vector<uint8_t> bytes(static_cast<size_t>(half) * 4);
    for (int64_t i = 0; i < half; ++i) std::memcpy(bytes.data() + i * 4, &v, 4);
    return bytes;
  };
  if (long_f > 0) {
    w.add_tensor_bytes("rope_factors_long.weight", backend::DType::kF32, {half}, constant(long_f));
    w.add_tensor_bytes("rope_factors_short.weight", backend::DType::kF32, {half}, constant(short_f));
  }
  edit(w);
  const Status st = w.write(to.string());
  ASSERT_TRUE(st.ok()) << st.to_string();
}

TEST(Phi3LongRopeGguf, FactorTensorsScaleTheFrequencies) {
  INFERD_REQUIRE_SHARED(fixture, kFixture);
  auto src = format::GgufFile::open(fixture.string());
  ASSERT_TRUE(src.ok());
  const int64_t ctx = *(*src)->get_int("phi3.context_length");
  const int64_t half = *(*src)->get_int("phi3.rope.dimension_count") / 2;
  const auto dir = inferd::testing::temp_dir();

  // Long context (twice the original): the long factors (2) apply, like linear scaling by 2.
  write_variant(fixture, dir / "long.gguf", [&](format::GgufWriter& w) {
    w.set_u32("phi3.context_length", static_cast<uint32_t>(2 * ctx));
    w.set_u32("phi3.rope.scaling.original_context_length", static_cast<uint32_t>(ctx));
    w.set_f32("phi3.rope.scaling.attn_factor", 1.0f);
  }, half, 2.0f, 1.0f);
  write_variant(fixture, dir / "linear.gguf", [&](format::GgufWriter& w) {
    w.set_u32("phi3.context_length", static_cast<uint32_t>(2 * ctx));
    w.set_string("phi3.rope.scaling.type", "linear");
    w.set_f32("phi3.rope.scaling.factor", 2.0f);
  }, half);
  const auto base = last_logits(fixture), long_rope = last_logits(dir / "long.gguf"),
             linear = last_logits(dir / "linear.gguf");
  EXPECT_LT(max_abs_diff(long_rope, linear), 1e-4f);
  EXPECT_GT(max_abs_diff(long_rope, base), 1e-2f);  // the scaling changes the outputs

  // The original context: the short factors (1) apply, leaving the model as it was.
  write_variant(fixture, dir / "short.gguf", [&](format::GgufWriter& w) {
    w.set_u32("phi3.rope.scaling.original_context_length", static_cast<uint32_t>(ctx));
    w.set_f32("phi3.rope.scaling.attn_factor", 1.0f);
  }, half, 2.0f, 1.0f);
  EXPECT_LT(max_abs_diff(last_logits(dir / "short.gguf"), base), 1e-4f);

  // Without an attention factor in the file, the published default.
  write_variant(fixture, dir / "default.gguf", [&](format::GgufWriter& w) {
    w.set_u32("phi3.context_length", static_cast<uint32_t>(4 * ctx));
    w.set_u32("phi3.rope.scaling.original_context_length", static_cast<uint32_t>(ctx));
  }, half, 2.0f, 1.0f);
  auto model = Model::load((dir / "default.gguf").string());
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  const model::HParams& hp = (*model)->core().hparams();
  EXPECT_EQ(hp.rope_scaling, model::RopeScaling::kLongRope);
  EXPECT_NEAR(hp.rope_attn_factor, std::sqrt(1.0 + std::log(4.0) / std::log(static_cast<double>(ctx))), 1e-6);
}

}  // namespace
}  // namespace inferd

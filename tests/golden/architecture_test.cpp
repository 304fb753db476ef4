// Every architecture of the table, on small random-weight models written by synth, against the
// independent plain-loop reference (tests/reference). The engine evaluates two interleaved
// sequences: a prefill batch, then one token per step, so the KV cache, batching across
// sequences and the per-family options are all exercised.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "inferd/engine.h"
#include "model/synth_model.h"
#include "reference/plain_transformer.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

struct ArchCase {
  const char* name;
  model::SynthOptions options;
};

model::SynthOptions base_options(const char* arch) {
  model::SynthOptions o;
  o.arch = arch;
  o.dim = 64;
  o.layers = 2;
  o.heads = 4;
  o.kv_heads = 2;
  o.ffn = 96;
  o.vocab = 300;
  o.context = 256;
  o.type = backend::DType::kF32;
  o.seed = 42;
  return o;
}

std::vector<ArchCase> cases() {
  std::vector<ArchCase> v;
  v.push_back({"llama", base_options("llama")});
  v.push_back({"qwen2", base_options("qwen2")});
  auto qwen3 = base_options("qwen3");
  qwen3.head_dim = 32;  // heads x head size differs from dim, as in Qwen3
  qwen3.rope_base = 1000000.0f;
  v.push_back({"qwen3", qwen3});
  auto qwen3moe = base_options("qwen3moe");
  qwen3moe.head_dim = 32;
  qwen3moe.experts = 6;
  qwen3moe.experts_used = 2;
  qwen3moe.expert_ffn = 64;
  v.push_back({"qwen3moe", qwen3moe});
  auto gemma2 = base_options("gemma2");
  gemma2.layers = 3;
  gemma2.sliding_window = 4;
  gemma2.attn_softcap = 5.0f;
  gemma2.final_softcap = 3.0f;
  v.push_back({"gemma2", gemma2});
  auto gemma3 = base_options("gemma3");
  gemma3.layers = 7;  // layer 5 is global, the others local
  gemma3.sliding_window = 4;
  gemma3.rope_base = 1000000.0f;
  gemma3.rope_linear_factor = 4.0f;
  v.push_back({"gemma3", gemma3});
  auto phi3 = base_options("phi3");
  phi3.sliding_window = 6;
  v.push_back({"phi3", phi3});
  return v;
}

void PrintTo(const ArchCase& c, std::ostream* os) { *os << c.name; }

class Architecture : public ::testing::TestWithParam<ArchCase> {};

TEST_P(Architecture, MatchesPlainReference) {
  const ArchCase& c = GetParam();
  const std::string path = (::inferd::testing::temp_dir() / "model.gguf").string();
  ASSERT_TRUE(model::write_synth_model(c.options, path).ok());

  std::mt19937 rng(5);
  std::uniform_int_distribution<int> pick(3, static_cast<int>(c.options.vocab) - 1);
  std::vector<int> seqs[2];
  for (auto& s : seqs)
    for (int i = 0; i < 14; ++i) s.push_back(pick(rng));

  auto model = Model::load(path);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto ctx = Context::create(*model, {.ctx_size = 32, .max_seqs = 2, .max_batch = 16, .num_threads = 2});
  ASSERT_TRUE(ctx.ok()) << ctx.status().to_string();

  // Engine logits per sequence and position: prefill 8 tokens of both sequences in one batch,
  // then one token of each sequence per step.
  std::vector<std::vector<float>> got[2];
  std::vector<BatchEntry> prefill;
  for (int s = 0; s < 2; ++s)
    for (int i = 0; i < 8; ++i) prefill.push_back({seqs[s][i], i, s, true});
  ASSERT_TRUE((*ctx)->decode(prefill).ok());
  for (int j = 0; j < 16; ++j) {
    auto l = (*ctx)->logits(j);
    got[j / 8].emplace_back(l.begin(), l.end());
  }
  for (int i = 8; i < 14; ++i) {
    const BatchEntry step[2] = {{seqs[0][i], i, 0, true}, {seqs[1][i], i, 1, true}};
    ASSERT_TRUE((*ctx)->decode(step).ok());
    for (int s = 0; s < 2; ++s) {
      auto l = (*ctx)->logits(s);
      got[s].emplace_back(l.begin(), l.end());
    }
  }

  for (int s = 0; s < 2; ++s) {
    auto want = ::inferd::testing::plain_transformer_logits(path, seqs[s]);
    ASSERT_TRUE(want.ok()) << want.status().to_string();
    double worst = 0;
    for (size_t t = 0; t < seqs[s].size(); ++t)
      for (size_t i = 0; i < (*want)[t].size(); ++i)
        worst = std::max(worst, std::fabs((*want)[t][i] - got[s][t][i]));
    // The engine keeps keys and values in f16: differences of a few 1e-3 are expected.
    EXPECT_LT(worst, 2e-2) << c.name << " sequence " << s;
    std::printf("%s seq %d: largest logit difference %.2e\n", c.name, s, worst);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, Architecture, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace inferd

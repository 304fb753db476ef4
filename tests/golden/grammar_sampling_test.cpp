// Property test of grammar-constrained sampling with real vocabularies (../shared/vocab): for
// several schemas and many seeds, sample from random logits masked by the grammar; after a budget
// of free tokens, steer to the end along the grammar's shortest completion. Every output must
// parse as JSON (nlohmann::json::parse) and validate against its schema.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "engine/grammar/compiled_grammar.h"
#include "engine/grammar/grammar_matcher.h"
#include "engine/grammar/json_schema_checker_testing.h"
#include "engine/grammar/json_schema_compiler.h"
#include "engine/grammar/tool_call_grammar.h"
#include "format/gguf_file.h"
#include "inferd/sampler.h"
#include "testing/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace inferd::engine {
namespace {

using Json = nlohmann::ordered_json;

#ifdef NDEBUG
constexpr int kSeeds = 24;
#else
constexpr int kSeeds = 5;  // sanitizer builds are slow
#endif
constexpr int kFreeTokens = 48;
constexpr int kMaxTokens = 600;

const char* const kSchemas[] = {
    // A typical structured-output object.
    R"({"type":"object","properties":{
        "name":{"type":"string","minLength":1,"maxLength":40},
        "age":{"type":"integer","minimum":0,"maximum":150},
        "email":{"type":"string","format":"email"},
        "role":{"enum":["admin","user","guest"]},
        "tags":{"type":"array","items":{"type":"string"},"maxItems":5},
        "address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},
                   "required":["city"],"additionalProperties":false},
        "score":{"type":"number","minimum":0,"maximum":1},
        "nickname":{"type":["string","null"]}},
      "required":["name","age","role","tags","score"],"additionalProperties":false})",
    // Recursion through $defs, anyOf.
    R"({"$defs":{"Node":{"type":"object","properties":{"label":{"type":"string","maxLength":12},
        "value":{"anyOf":[{"type":"integer"},{"type":"boolean"},{"type":"null"}]},
        "children":{"type":"array","items":{"$ref":"#/$defs/Node"},"maxItems":3}},
        "required":["label"],"additionalProperties":false}},"$ref":"#/$defs/Node"})",
    // Formats, patterns, tuples, maps.
    R"({"type":"object","properties":{"id":{"type":"string","format":"uuid"},"day":{"type":"string","format":"date"},
        "at":{"type":"string","format":"date-time"},"code":{"type":"string","pattern":"^[A-Z]{3}-\\d{2,4}$"},
        "point":{"type":"array","prefixItems":[{"type":"number"},{"type":"number"}],"items":false,"minItems":2},
        "counts":{"type":"object","additionalProperties":{"type":"integer","minimum":-5,"maximum":5}}},
      "required":["id","day","at","code","point","counts"]})",
    // Any JSON value.
    R"({})",
};

struct VocabFixture {
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  std::shared_ptr<const GrammarVocab> vocab;
  std::unordered_map<std::string, TokenId> by_bytes;  // text tokens by their bytes
};

const VocabFixture* load_vocab(const std::string& name) {
  static std::map<std::string, std::unique_ptr<VocabFixture>> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second.get();
  const auto path = inferd::testing::shared_path("vocab/ggml-vocab-" + name + ".gguf");
  if (path.empty() || !std::filesystem::exists(path)) return nullptr;
  auto file = format::GgufFile::open(path.string());
  if (!file.ok()) return nullptr;
  auto tok = tokenizer::Tokenizer::from_gguf(**file);
  if (!tok.ok()) return nullptr;
  auto f = std::make_unique<VocabFixture>();
  f->tokenizer = std::move(tok).value();
  f->vocab = GrammarVocab::from_tokenizer(*f->tokenizer);
  for (TokenId id = 0; id < f->vocab->size(); ++id)
    if (f->vocab->is_text(id)) f->by_bytes.emplace(std::string(f->vocab->bytes(id)), id);
  return (cache[name] = std::move(f)).get();
}

// Samples one output; returns the generated text, or fails the test.
std::string generate(const std::shared_ptr<const CompiledGrammar>& grammar, const VocabFixture& v, uint64_t seed) {
  GrammarMatcher m(grammar);
  SamplingParams params;
  params.seed = seed;
  Sampler sampler(params, v.vocab->size());
  std::mt19937_64 rng(seed);
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;  // xorshift: cheap random logits in [0, 8)
  std::vector<float> logits(static_cast<size_t>(v.vocab->size()));
  std::string text;
  for (int step = 0; step < kMaxTokens; ++step) {
    TokenId token = -1;
    if (step < kFreeTokens) {
      for (float& logit : logits) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        logit = static_cast<float>(x >> 40) * (8.0f / 16777216.0f);
      }
      m.fill_allowed(logits);
      token = sampler.sample(logits);
      // Stop sometimes when allowed, to cover short outputs too.
      if (m.can_terminate() && rng() % 4 == 0) token = v.vocab->eog_tokens().front();
    } else if (m.can_terminate()) {
      token = v.vocab->eog_tokens().front();
    } else {
      // Steer: the longest allowed token that starts the shortest completion.
      auto completion = m.shortest_completion();
      EXPECT_TRUE(completion.ok()) << completion.status().to_string() << " after: " << text;
      if (!completion.ok()) return text;
      for (size_t len = std::min<size_t>(completion->size(), 24); len > 0 && token < 0; --len) {
        auto it = v.by_bytes.find(completion->substr(0, len));
        if (it != v.by_bytes.end() && m.is_allowed(it->second)) token = it->second;
      }
      EXPECT_GE(token, 0) << "no token spells the completion \"" << *completion << "\"";
      if (token < 0) return text;
    }
    EXPECT_TRUE(m.is_allowed(token));
    const Status st = m.accept_token(token);
    EXPECT_TRUE(st.ok()) << st.to_string();
    if (!st.ok()) return text;
    if (v.vocab->is_eog(token)) {
      EXPECT_TRUE(m.is_finished());
      return text;
    }
    text += v.vocab->bytes(token);
  }
  ADD_FAILURE() << "no end after " << kMaxTokens << " tokens: " << text;
  return text;
}

class GrammarSampling : public ::testing::TestWithParam<std::string> {};

TEST_P(GrammarSampling, OutputsParseAndValidate) {
  INFERD_REQUIRE_SHARED(vocab_path, "vocab/ggml-vocab-" + GetParam() + ".gguf");
  const VocabFixture* v = load_vocab(GetParam());
  ASSERT_NE(v, nullptr);
  for (const char* schema_text : kSchemas) {
    SCOPED_TRACE(schema_text);
    const Json schema = Json::parse(schema_text);
    auto grammar = json_schema_grammar(schema);
    ASSERT_TRUE(grammar.ok()) << grammar.status().to_string();
    auto compiled = CompiledGrammar::compile(*grammar, v->vocab);
    ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
    const testing::JsonSchemaChecker checker(schema);
    for (int seed = 0; seed < kSeeds; ++seed) {
      const std::string text = generate(*compiled, *v, static_cast<uint64_t>(seed) * 7919 + 1);
      if (HasFailure()) return;
      const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
      ASSERT_FALSE(parsed.is_discarded()) << "seed " << seed << " not JSON: " << text;
      EXPECT_EQ(checker.check(Json::parse(text)), "") << "seed " << seed << ": " << text;
    }
  }
}

TEST_P(GrammarSampling, ToolCallsParseAndValidate) {
  INFERD_REQUIRE_SHARED(vocab_path, "vocab/ggml-vocab-" + GetParam() + ".gguf");
  const VocabFixture* v = load_vocab(GetParam());
  ASSERT_NE(v, nullptr);
  const Json params = Json::parse(R"({"type":"object","properties":{"city":{"type":"string","maxLength":20},
      "days":{"type":"integer","minimum":1,"maximum":14}},"required":["city","days"],"additionalProperties":false})");
  const std::vector<ToolDefinition> tools = {{"get_forecast", params}, {"get_time", Json()}};
  auto grammar = tool_call_grammar(tools, ToolCallGrammarOptions{});
  ASSERT_TRUE(grammar.ok()) << grammar.status().to_string();
  auto compiled = CompiledGrammar::compile(*grammar, v->vocab);
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  const testing::JsonSchemaChecker checker(params);
  for (int seed = 0; seed < kSeeds; ++seed) {
    const std::string text = generate(*compiled, *v, static_cast<uint64_t>(seed) + 100);
    if (HasFailure()) return;
    // Every <tool_call> block holds one JSON call object.
    size_t pos = 0, calls = 0;
    while ((pos = text.find("<tool_call>", pos)) != std::string::npos) {
      const size_t end = text.find("</tool_call>", pos);
      ASSERT_NE(end, std::string::npos) << text;
      const std::string body = text.substr(pos + 11, end - pos - 11);
      const nlohmann::json call = nlohmann::json::parse(body, nullptr, false);
      ASSERT_FALSE(call.is_discarded()) << "seed " << seed << ": " << body;
      ASSERT_TRUE(call.contains("name") && call.contains("arguments")) << body;
      if (call["name"] == "get_forecast") {
        EXPECT_EQ(checker.check(Json::parse(call["arguments"].dump())), "") << body;
      }
      EXPECT_TRUE(call["arguments"].is_object()) << body;
      ++calls;
      pos = end;
    }
    EXPECT_GE(calls, 1u) << text;
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, GrammarSampling, ::testing::Values("llama-spm", "gpt-2", "deepseek-llm"));

}  // namespace
}  // namespace inferd::engine

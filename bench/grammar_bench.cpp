// Grammar-constrained decoding: the cost of computing the allowed-token mask per generated token,
// for realistic vocabularies from ../shared/vocab (or $INFERD_SHARED_DIR/vocab) and typical
// structured-output grammars. The token sequence replayed is a valid output encoded by the
// model's own tokenizer, so every step is a state a real generation passes through.
//
//   mask/<vocab>/<grammar>/warm   the compiled grammar has served a request before (per-state
//                                 analyses cached): what every later request pays per token
//   mask/<vocab>/<grammar>/cold   a fresh compiled grammar: the first request with a new schema
//   compile/<vocab>/<grammar>     schema -> grammar -> automaton -> compiled grammar
//   vocab/<vocab>                 GrammarVocab from the tokenizer (once per model)
// Counters: us_per_token (mean mask time), max_us (slowest single mask), tokens.
// Vocabularies: llama-spm (32k), deepseek-llm (100k), and "synth-150k": deepseek-llm plus 50k
// tokens made by joining pairs of its tokens (the size of Qwen2-class vocabularies, which are
// not in ../shared).
// Run from the release build: build/release/bench/grammar_bench.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/grammar/compiled_grammar.h"
#include "engine/grammar/grammar_matcher.h"
#include "engine/grammar/json_schema_compiler.h"
#include "engine/grammar/tool_call_grammar.h"
#include "format/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace {

using inferd::TokenId;
using inferd::tokenizer::Tokenizer;
using namespace inferd::engine;
using Json = nlohmann::ordered_json;

std::filesystem::path vocab_dir() {
  if (const char* env = std::getenv("INFERD_SHARED_DIR"); env && *env)
    return std::filesystem::path(env) / "vocab";
  return std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "shared" / "vocab";
}

struct Vocabulary {
  std::unique_ptr<Tokenizer> tokenizer;
  std::shared_ptr<const GrammarVocab> vocab;
};

const Tokenizer* load_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second.get();
  auto file = inferd::format::GgufFile::open((vocab_dir() / ("ggml-vocab-" + name + ".gguf")).string());
  if (!file.ok()) return nullptr;
  auto tok = Tokenizer::from_gguf(**file);
  if (!tok.ok()) return nullptr;
  return (cache[name] = std::move(tok).value()).get();
}

// deepseek-llm's tokens plus `extra` new ones, each the concatenation of two of its ordinary
// tokens (at most 16 bytes, not already present).
std::shared_ptr<const GrammarVocab> synthetic_vocab(const Tokenizer& base, size_t extra) {
  std::vector<VocabToken> tokens;
  std::set<std::string> seen;
  std::vector<std::string> ordinary;
  for (TokenId id = 0; id < base.vocab_size(); ++id) {
    VocabToken t;
    t.special = base.is_special(id);
    t.eog = base.is_eog(id);
    t.bytes = base.token_to_piece(id, t.special);
    if (!t.special && !t.eog && !t.bytes.empty()) ordinary.push_back(t.bytes);
    seen.insert(t.bytes);
    tokens.push_back(std::move(t));
  }
  std::mt19937 rng(150);
  while (tokens.size() < static_cast<size_t>(base.vocab_size()) + extra) {
    std::string joined = ordinary[rng() % ordinary.size()] + ordinary[rng() % ordinary.size()];
    if (joined.size() > 16 || !seen.insert(joined).second) continue;
    tokens.push_back({std::move(joined), false, false});
  }
  return std::make_shared<const GrammarVocab>(std::move(tokens));
}

// The vocabulary and the tokenizer that encodes the replayed text (ids valid in both).
const Vocabulary* vocabulary(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Vocabulary>> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second.get();
  auto v = std::make_unique<Vocabulary>();
  const Tokenizer* tok = load_tokenizer(name == "synth-150k" ? "deepseek-llm" : name);
  if (!tok) return nullptr;
  v->vocab = name == "synth-150k" ? synthetic_vocab(*tok, 50000) : GrammarVocab::from_tokenizer(*tok);
  v->tokenizer = nullptr;
  cache[name] = std::move(v);
  return cache[name].get();
}

struct Workload {
  std::string schema;  // JSON Schema text; "json_object" or "tools" for those modes
  std::string output;  // a valid output
};

const std::map<std::string, Workload>& workloads() {
  static const std::map<std::string, Workload> kWorkloads = {
      {"person-schema",
       {R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},
          "email":{"type":"string","format":"email"},"role":{"enum":["admin","user","guest"]},
          "tags":{"type":"array","items":{"type":"string"}},"address":{"type":"object","properties":{
          "street":{"type":"string"},"city":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},
          "required":["street","city"],"additionalProperties":false},"active":{"type":"boolean"},
          "bio":{"type":"string","maxLength":200}},
          "required":["name","age","email","role","tags","address","active"],"additionalProperties":false})",
        R"({"name": "Alice Johnson", "age": 34, "email": "alice.johnson@example.com", "role": "admin", "tags": ["engineering", "on-call", "mentor"], "address": {"street": "12 Main Street", "city": "Springfield", "zip": "01234"}, "active": true, "bio": "Alice leads the platform team. She likes hiking, chess and \"quoted\" words; also unicode: héllo wörld, 中文."})"}},
      {"json-object",
       {"json_object",
        R"({"results": [{"id": 1, "title": "First result", "score": 0.93, "tags": ["a", "b"]}, {"id": 2, "title": "Second, with a longer title", "score": 0.5, "tags": []}], "total": 2, "next": null, "query": {"text": "grammar constrained decoding", "lang": "en"}})"}},
      {"tool-call",
       {"tools",
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"San Francisco, CA\", \"unit\": \"celsius\", \"days\": 3}}\n</tool_call>"}},
  };
  return kWorkloads;
}

inferd::Result<inferd::engine::Grammar> make_grammar(const Workload& w) {
  if (w.schema == "json_object") return json_object_grammar();
  if (w.schema == "tools") {
    const std::vector<ToolDefinition> tools = {
        {"get_weather", Json::parse(R"({"type":"object","properties":{"location":{"type":"string"},
            "unit":{"enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":14}},
            "required":["location","unit"],"additionalProperties":false})")},
        {"search", Json::parse(R"({"type":"object","properties":{"query":{"type":"string"}},"required":["query"]})")}};
    return tool_call_grammar(tools, ToolCallGrammarOptions{});
  }
  return json_schema_grammar_from_text(w.schema);
}

void BM_Mask(benchmark::State& state, const std::string& vocab_name, const std::string& workload, bool warm) {
  const Vocabulary* v = vocabulary(vocab_name);
  const Tokenizer* tok = load_tokenizer(vocab_name == "synth-150k" ? "deepseek-llm" : vocab_name);
  if (!v || !tok) {
    state.SkipWithError(("vocab not found: " + vocab_name).c_str());
    return;
  }
  const Workload& w = workloads().at(workload);
  auto grammar = make_grammar(w);
  if (!grammar.ok()) {
    state.SkipWithError(grammar.status().to_string().c_str());
    return;
  }
  const std::vector<TokenId> ids = tok->encode(w.output, false, false);
  std::vector<float> logits(static_cast<size_t>(v->vocab->size()), 0.0f);
  std::shared_ptr<const CompiledGrammar> shared;
  auto fresh = [&] { return *CompiledGrammar::compile(*grammar, v->vocab); };
  if (warm) shared = fresh();
  double total_us = 0, max_us = 0;
  size_t masks = 0;
  auto replay = [&](const std::shared_ptr<const CompiledGrammar>& g, bool timed) {
    GrammarMatcher m(g);
    for (TokenId id : ids) {
      const auto t0 = std::chrono::steady_clock::now();
      m.fill_allowed(logits);
      const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      if (timed) {
        total_us += us;
        max_us = std::max(max_us, us);
        ++masks;
      }
      if (!m.accept_token(id).ok()) return false;
    }
    return true;
  };
  if (warm && !replay(shared, false)) {
    state.SkipWithError("the replayed output is rejected by the grammar");
    return;
  }
  for (auto _ : state) {
    const auto g = warm ? shared : fresh();
    if (!replay(g, true)) {
      state.SkipWithError("the replayed output is rejected by the grammar");
      return;
    }
  }
  state.counters["us_per_token"] = total_us / static_cast<double>(masks);
  state.counters["max_us"] = max_us;
  state.counters["tokens"] = static_cast<double>(ids.size());
}

void BM_Compile(benchmark::State& state, const std::string& vocab_name, const std::string& workload) {
  const Vocabulary* v = vocabulary(vocab_name);
  if (!v) {
    state.SkipWithError(("vocab not found: " + vocab_name).c_str());
    return;
  }
  const Workload& w = workloads().at(workload);
  for (auto _ : state) {
    auto grammar = make_grammar(w);
    auto compiled = CompiledGrammar::compile(*grammar, v->vocab);
    benchmark::DoNotOptimize(compiled);
  }
}

void BM_Vocab(benchmark::State& state, const std::string& vocab_name) {
  const Tokenizer* tok = load_tokenizer(vocab_name);
  if (!tok) {
    state.SkipWithError(("vocab not found: " + vocab_name).c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(GrammarVocab::from_tokenizer(*tok));
}

void register_all() {
  const std::vector<std::string> vocabs = {"llama-spm", "deepseek-llm", "synth-150k"};
  for (const std::string& v : vocabs) {
    for (const auto& [name, w] : workloads()) {
      benchmark::RegisterBenchmark(("mask/" + v + "/" + name + "/warm").c_str(),
                                   [v, name = name](benchmark::State& s) { BM_Mask(s, v, name, true); })
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("mask/" + v + "/" + name + "/cold").c_str(),
                                   [v, name = name](benchmark::State& s) { BM_Mask(s, v, name, false); })
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("compile/" + v + "/" + name).c_str(),
                                   [v, name = name](benchmark::State& s) { BM_Compile(s, v, name); })
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (const std::string v : {"llama-spm", "deepseek-llm"})
    benchmark::RegisterBenchmark(("vocab/" + v).c_str(), [v](benchmark::State& s) { BM_Vocab(s, v); })
        ->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

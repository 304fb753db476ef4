// Tokenizer throughput on ~100 KB inputs: English-like prose, one long run without spaces, digits,
// CJK text, punctuation runs and whitespace runs, for an SPM, a byte-level BPE and a WordPiece
// vocabulary from ../shared/vocab (or $INFERD_SHARED_DIR/vocab). Run from the release build:
// build/release/bench/tokenizer_bench.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "format/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace {

using inferd::tokenizer::Tokenizer;

constexpr size_t kInputBytes = 100 * 1024;

std::filesystem::path vocab_dir() {
  if (const char* env = std::getenv("INFERD_SHARED_DIR"); env && *env)
    return std::filesystem::path(env) / "vocab";
  return std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "shared" / "vocab";
}

const Tokenizer* tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  auto file =
      inferd::format::GgufFile::open((vocab_dir() / ("ggml-vocab-" + name + ".gguf")).string());
  if (!file.ok()) return nullptr;
  auto tok = Tokenizer::from_gguf(**file);
  if (!tok.ok()) return nullptr;
  return (cache[name] = std::move(tok).value()).get();
}

// Deterministic English-like prose with punctuation, numbers and line breaks.
std::string prose() {
  static const std::vector<std::string> kWords = [] {
    const std::string list =
        "the of and to in a is that for it as was with be by on not he I this are or his from at "
        "which but have an had they you were their one all we can her has there been if more when "
        "will would who so no tokenizer inference throughput latency question government "
        "different important however information understanding don't it's we're";
    std::vector<std::string> words;
    size_t pos = 0;
    while (pos < list.size()) {
      const size_t end = std::min(list.find(' ', pos), list.size());
      words.push_back(list.substr(pos, end - pos));
      pos = end + 1;
    }
    return words;
  }();
  std::string out;
  uint32_t state = 12345;
  size_t sentence = 0;
  while (out.size() < kInputBytes) {
    state = state * 1664525u + 1013904223u;
    std::string word = kWords[(state >> 8) % kWords.size()];
    if (sentence == 0)
      word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
    out += word;
    ++sentence;
    if ((state >> 20) % 97 == 0) out.append(" ").append(std::to_string(state % 10000));
    if (sentence > 8 && (state >> 4) % 6 == 0) {
      out += (state >> 12) % 5 == 0 ? "?" : ".";
      out += (state >> 16) % 7 == 0 ? "\n\n" : " ";
      sentence = 0;
    } else {
      out += (state >> 24) % 11 == 0 ? ", " : " ";
    }
  }
  return out;
}

std::string input(const std::string& kind) {
  if (kind == "prose") return prose();
  std::string out;
  if (kind == "nospace") {
    while (out.size() < kInputBytes) out += "abcdefghijklmnopqrstuvwxyz";
  } else if (kind == "digits") {
    while (out.size() < kInputBytes) out += "31415926535897932384";
  } else if (kind == "punct") {
    while (out.size() < kInputBytes) out += " !?. \t";
  } else if (kind == "spaces") {
    while (out.size() < kInputBytes) out += "            \t\t \n x";
  } else {  // cjk
    while (out.size() < kInputBytes) out += "我想在工作天气很好今天";
  }
  out.resize(kInputBytes);
  return out;
}

void BM_Encode(benchmark::State& state, const std::string& vocab, const std::string& kind) {
  const Tokenizer* tok = tokenizer(vocab);
  if (tok == nullptr) {
    state.SkipWithError(("vocab not found: " + vocab).c_str());
    return;
  }
  const std::string text = input(kind);
  size_t tokens = 0;
  for (auto _ : state) {
    auto ids = tok->encode(text, false, false);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}

void register_all() {
  for (const char* vocab : {"llama-spm", "gpt-2", "deepseek-llm", "falcon", "bert-bge"})
    for (const char* kind : {"prose", "nospace", "digits", "cjk", "punct", "spaces"})
      benchmark::RegisterBenchmark((std::string("encode/") + vocab + "/" + kind).c_str(),
                                   [vocab = std::string(vocab), kind = std::string(kind)](
                                       benchmark::State& s) { BM_Encode(s, vocab, kind); })
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

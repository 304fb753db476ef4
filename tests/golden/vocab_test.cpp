// Golden tokenization tests against shared data:
//  - ../shared/vocab/ggml-vocab-*.gguf with .inp/.out beside them: every test string must encode
//    (no BOS/EOS, special tokens not parsed) to the ids on the matching line of .out;
//  - ../shared/fixtures/ref/*.json: every reference prompt of every fixture model must encode (BOS
//    as the vocabulary asks, special tokens not parsed) to its prompt_tokens, and the greedy
//    tokens' pieces must concatenate to greedy_text_hex.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/gguf_file.h"
#include "testing/test_paths.h"
#include "tokenizer/incremental_decoder.h"
#include "tokenizer/tokenizer.h"

namespace inferd::tokenizer {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCaseSeparator = "\n__ggml_vocab_test__\n";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split(std::string_view text, std::string_view sep) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(sep, pos);
    if (hit == std::string_view::npos) {
      parts.emplace_back(text.substr(pos));
      return parts;
    }
    parts.emplace_back(text.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
}

std::vector<TokenId> parse_ids(const std::string& line) {
  std::vector<TokenId> ids;
  std::istringstream in(line);
  long long v = 0;
  while (in >> v) ids.push_back(static_cast<TokenId>(v));
  return ids;
}

// Printable form of test input for failure messages.
std::string escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string describe(const Tokenizer& tok, const std::vector<TokenId>& ids) {
  std::string out;
  for (TokenId id : ids) {
    out.append(std::to_string(id));
    if (tok.contains(id)) out.append("'").append(escaped(tok.token_text(id))).append("'");
    out.push_back(' ');
  }
  return out;
}

// Vocab files that have test vectors beside them.
std::vector<std::string> vocab_names() {
  std::vector<std::string> names;
  const fs::path dir = testing::shared_path("vocab");
  if (dir.empty() || !fs::is_directory(dir)) return names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".gguf" || file.rfind("ggml-vocab-", 0) != 0) continue;
    if (!fs::exists(entry.path().string() + ".inp") || !fs::exists(entry.path().string() + ".out"))
      continue;
    names.push_back(file.substr(11, file.size() - 11 - 5));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

Result<std::unique_ptr<Tokenizer>> load(const fs::path& path) {
  INFERD_ASSIGN_OR_RETURN(auto file, format::GgufFile::open(path.string()));
  return Tokenizer::from_gguf(*file);
}

TEST(VocabGolden, SharedVocabFilesArePresent) {
  INFERD_REQUIRE_SHARED(dir, "vocab");
  EXPECT_GE(vocab_names().size(), 10u) << "expected the ggml-vocab-*.gguf test vectors in " << dir;
}

// Every vocabulary file loads, with or without test vectors.
TEST(VocabGolden, EveryVocabFileLoads) {
  INFERD_REQUIRE_SHARED(dir, "vocab");
  int loaded = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".gguf") continue;
    auto tok = load(entry.path());
    ASSERT_TRUE(tok.ok()) << tok.status().to_string();
    const std::string text = "Hello world! 123";
    EXPECT_FALSE((*tok)->encode(text, false, false).empty()) << entry.path();
    ++loaded;
  }
  EXPECT_GE(loaded, 12);
}

class VocabCases : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabCases, EncodeMatchesReference) {
  INFERD_REQUIRE_SHARED(dir, "vocab");
  const fs::path gguf = dir / ("ggml-vocab-" + GetParam() + ".gguf");
  auto loaded = load(gguf);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  const Tokenizer& tok = **loaded;

  std::vector<std::string> inputs = split(read_file(gguf.string() + ".inp"), kCaseSeparator);
  std::vector<std::string> lines = split(read_file(gguf.string() + ".out"), "\n");
  // The .inp file ends with a separator and the .out file with a newline.
  ASSERT_FALSE(inputs.empty());
  ASSERT_TRUE(inputs.back().empty());
  inputs.pop_back();
  ASSERT_GE(lines.size(), inputs.size());

  // Lossless vocabularies decode back to their input exactly (BERT lowercases and drops accents).
  const bool lossless = tok.model() != TokenizerModel::kWordPiece;
  int failures = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& input = inputs[i];
    const std::vector<TokenId> expected = parse_ids(lines[i]);
    const std::vector<TokenId> actual = tok.encode(input, /*add_special=*/false,
                                                   /*parse_special=*/false);
    if (actual != expected) {
      ++failures;
      ADD_FAILURE() << GetParam() << " case " << i << " input \"" << escaped(input) << "\"\n"
                    << "  expected: " << describe(tok, expected) << "\n"
                    << "  actual:   " << describe(tok, actual);
    }
    if (lossless) {
      EXPECT_EQ(tok.decode(actual, /*skip_special=*/false), input)
          << GetParam() << " case " << i << " does not decode back";
      // Streaming gives the same text token by token.
      IncrementalDecoder stream(tok, /*skip_special=*/false);
      std::string streamed;
      for (TokenId id : actual) stream.push(id, streamed);
      stream.flush(streamed);
      EXPECT_EQ(streamed, input) << GetParam() << " case " << i << " streams differently";
    }
  }
  EXPECT_EQ(failures, 0);
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(VocabCases);
INSTANTIATE_TEST_SUITE_P(SharedVocab, VocabCases, ::testing::ValuesIn(vocab_names()), test_name);

std::string to_hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kHex[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kHex[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

TEST(FixtureGolden, ReferencePromptsEncodeToReferenceTokens) {
  INFERD_REQUIRE_SHARED(ref_dir, "fixtures/ref");
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(ref_dir)) {
    if (entry.path().extension() != ".json") continue;
    const auto ref = nlohmann::json::parse(read_file(entry.path()));
    const fs::path gguf = ref_dir.parent_path() / ref.at("model").get<std::string>();
    auto loaded = load(gguf);
    ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
    const Tokenizer& tok = **loaded;
    for (const auto& c : ref.at("cases")) {
      const std::string prompt = c.at("prompt").get<std::string>();
      const auto expected = c.at("prompt_tokens").get<std::vector<TokenId>>();
      const auto actual = tok.encode(prompt, /*add_special=*/true, /*parse_special=*/false);
      EXPECT_EQ(actual, expected) << gguf.filename() << " prompt \"" << prompt << "\"\n"
                                  << "  expected: " << describe(tok, expected) << "\n"
                                  << "  actual:   " << describe(tok, actual);
      // token-to-piece of the greedy continuation, special tokens not rendered.
      std::string pieces;
      for (TokenId id : c.at("greedy").get<std::vector<TokenId>>())
        pieces += tok.token_to_piece(id, /*render_special=*/false);
      EXPECT_EQ(to_hex(pieces), c.at("greedy_text_hex").get<std::string>())
          << gguf.filename() << " prompt \"" << prompt << "\"";
      ++checked;
    }
  }
  EXPECT_GE(checked, 8 * 4);
}

}  // namespace
}  // namespace inferd::tokenizer

// Fuzz-style OutputParser tests: random text built from marker fragments, JSON pieces and random
// bytes, and mutations of the data cases, for every format with tools on and off. The parser
// must never crash, every event stream must be well-formed (valid UTF-8 text, numbered calls
// with JSON object arguments), and streamed and whole-text parsing must agree.
#include "chat/output_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "chat/output_parser_testing.h"
#include "testing/test_paths.h"

namespace inferd::chat {
namespace {

constexpr OutputFormat kAllFormats[] = {
    OutputFormat::kGeneric,    OutputFormat::kHermes,         OutputFormat::kLlama3,
    OutputFormat::kMistral,    OutputFormat::kFunctionaryV31, OutputFormat::kFirefunctionV2,
    OutputFormat::kCommandR7B, OutputFormat::kDeepSeekR1,
};

// Pieces random text is made of: every marker, their fragments, JSON and Python syntax.
std::vector<std::string> fuzz_pieces() {
  std::vector<std::string> pieces = {
      "{",
      "}",
      "[",
      "]",
      "\"",
      ":",
      ",",
      ";",
      " ",
      "\n",
      "\\",
      "\"name\"",
      "\"arguments\"",
      "\"parameters\"",
      "\"tool_name\"",
      "\"id\"",
      "\"f\"",
      "1",
      "-2.5e3",
      "true",
      "null",
      "{}",
      "f",
      "x",
      ".call(",
      "q=",
      "'v'",
      ")",
      "```json",
      "```",
      "é",
      "☀",
      "\xF0\x9F",
      "\xFF",
      "\x80",
      "<",
      ">",
      "|",
      "｜",
      "=",
      "function",
      "get_weather",
      "[ARGS]",
      "[CALL_ID]",
      "abc123XYZ",
  };
  for (OutputFormat format : kAllFormats) {
    for (const std::string& marker : testing::format_markers(format)) {
      pieces.push_back(marker);
      pieces.push_back(marker.substr(0, marker.size() / 2));
      pieces.push_back(marker.substr(marker.size() / 2));
    }
  }
  pieces.push_back("<function=");
  pieces.push_back("</function>");
  pieces.push_back("</tool_call>");
  pieces.push_back("<|END_ACTION|>");
  pieces.push_back("<｜tool▁call▁begin｜>");
  pieces.push_back("<｜tool▁sep｜>");
  pieces.push_back("<｜tool▁call▁end｜>");
  pieces.push_back("<｜tool▁calls▁end｜>");
  return pieces;
}

// Checks one text under one configuration: whole, byte by byte and one random split agree.
void check_text(const OutputParserOptions& options, const std::string& text, uint64_t seed) {
  const OutputEvents whole = testing::run_whole(options, text);
  const OutputEvents reference = testing::normalized(whole);
  const ParsedOutput folded = testing::fold(reference);
  testing::expect_well_formed(whole, options.format, folded.content);
  EXPECT_TRUE(jinja::unicode::is_valid_utf8(folded.content));
  EXPECT_TRUE(jinja::unicode::is_valid_utf8(folded.reasoning));
  const OutputEvents bytewise = testing::run_bytewise(options, text);
  testing::expect_well_formed(bytewise, options.format, folded.content);
  EXPECT_EQ(testing::normalized(bytewise), reference);
  const OutputEvents split =
      testing::run_split(options, text, testing::random_cuts(text.size(), seed, 7));
  EXPECT_EQ(testing::normalized(split), reference);
}

std::vector<OutputParserOptions> all_configurations() {
  std::vector<OutputParserOptions> out;
  for (OutputFormat format : kAllFormats) {
    for (int mode = 0; mode < 3; ++mode) {
      OutputParserOptions options;
      options.format = format;
      options.parse_tool_calls = mode != 1;
      options.starts_in_reasoning = mode == 2;
      options.id_generator = testing::indexed_call_id;
      out.push_back(options);
    }
  }
  return out;
}

TEST(OutputParserFuzz, RandomText) {
  const std::vector<std::string> pieces = fuzz_pieces();
  std::mt19937_64 rng(20240926);
  uint64_t seed = 0;
  for (const OutputParserOptions& options : all_configurations()) {
    for (int iter = 0; iter < 60; ++iter) {
      std::string text;
      const size_t n = rng() % 40;
      for (size_t i = 0; i < n; ++i) {
        if (rng() % 8 == 0) {
          text.push_back(static_cast<char>(rng() & 0xFF));
        } else {
          text += pieces[rng() % pieces.size()];
        }
      }
      SCOPED_TRACE(std::string(output_format_name(options.format)) + ": " + text);
      check_text(options, text, ++seed);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

// Valid outputs from the data cases, mutated: truncated, bytes deleted, inserted or replaced,
// spans duplicated.
TEST(OutputParserFuzz, MutatedCases) {
  namespace fs = std::filesystem;
  const fs::path dir = ::inferd::testing::source_dir() / "tests" / "data" / "tool_calls" / "cases";
  std::vector<std::string> outputs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto doc = nlohmann::json::parse(testing::read_text_file(entry.path()), nullptr, false);
    if (!doc.is_object()) continue;
    const auto& output = doc["output"];
    std::string text;
    if (output.is_string()) {
      text = output.get<std::string>();
    } else {
      for (const auto& piece : output) text += piece.get<std::string>();
    }
    outputs.push_back(text);
  }
  ASSERT_FALSE(outputs.empty());
  std::sort(outputs.begin(), outputs.end());

  std::mt19937_64 rng(99);
  const std::vector<OutputParserOptions> configurations = all_configurations();
  uint64_t seed = 0;
  for (int iter = 0; iter < 1200; ++iter) {
    std::string text = outputs[rng() % outputs.size()];
    for (int m = 1 + static_cast<int>(rng() % 3); m > 0 && !text.empty(); --m) {
      const size_t pos = rng() % text.size();
      switch (rng() % 5) {
        case 0: text.resize(pos); break;
        case 1: text.erase(pos, 1 + rng() % 4); break;
        case 2: text.insert(pos, 1, static_cast<char>(rng() & 0xFF)); break;
        case 3: text[pos] = static_cast<char>(rng() & 0xFF); break;
        case 4: text.insert(pos, text.substr(rng() % text.size(), 1 + rng() % 16)); break;
      }
    }
    const OutputParserOptions& options = configurations[rng() % configurations.size()];
    SCOPED_TRACE(std::string(output_format_name(options.format)) + ": " + text);
    check_text(options, text, ++seed);
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace inferd::chat

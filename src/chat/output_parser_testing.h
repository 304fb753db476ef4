// Helpers shared by the OutputParser tests (not part of the library): running text through a
// parser in given pieces, normalising event streams, and checking the invariants every event
// stream must hold.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja/unicode.h"
#include "chat/output_parser.h"
#include "chat/tool_call_syntax.h"

namespace inferd::chat::testing {

inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Deterministic ids for tests: "call_<index>".
inline std::string indexed_call_id(size_t index) {
  return "call_" + std::to_string(index);
}

// Feeds `text` split at the given increasing cut positions, then finishes.
inline OutputEvents run_split(const OutputParserOptions& options, std::string_view text,
                              const std::vector<size_t>& cuts) {
  OutputParser parser(options);
  OutputEvents events;
  size_t prev = 0;
  for (size_t cut : cuts) {
    parser.push(text.substr(prev, cut - prev), &events);
    prev = cut;
  }
  parser.push(text.substr(prev), &events);
  parser.finish(&events);
  return events;
}

inline OutputEvents run_whole(const OutputParserOptions& options, std::string_view text) {
  return run_split(options, text, {});
}

inline OutputEvents run_bytewise(const OutputParserOptions& options, std::string_view text) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < text.size(); ++i) cuts.push_back(i);
  return run_split(options, text, cuts);
}

// Cuts like a tokenizer's: pieces of 1..max_piece bytes, not respecting UTF-8 boundaries.
inline std::vector<size_t> random_cuts(size_t size, uint64_t seed, size_t max_piece) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> piece(1, max_piece);
  std::vector<size_t> cuts;
  for (size_t pos = piece(rng); pos < size; pos += piece(rng)) cuts.push_back(pos);
  return cuts;
}

// Merges adjacent content (or reasoning) events, so that streams split differently compare.
inline OutputEvents normalized(const OutputEvents& events) {
  OutputEvents out;
  for (const OutputEvent& e : events) {
    const bool text = e.kind == OutputEventKind::kContent || e.kind == OutputEventKind::kReasoning;
    if (text && !out.empty() && out.back().kind == e.kind) {
      out.back().text += e.text;
    } else if (!(text && e.text.empty())) {
      out.push_back(e);
    }
  }
  return out;
}

inline ParsedOutput fold(const OutputEvents& events) {
  ParsedOutput output;
  fold_output_events(events, &output);
  return output;
}

// Every marker of a format: section triggers and reasoning tags.
inline std::vector<std::string> format_markers(OutputFormat format) {
  const FormatRow& row = format_row(format);
  std::vector<std::string> markers;
  for (const SectionTrigger& t : row.triggers) {
    if (!t.text.empty()) markers.emplace_back(t.text);
  }
  markers.emplace_back(row.reasoning.open);
  markers.emplace_back(row.reasoning.close);
  return markers;
}

// Invariants of any event stream: valid UTF-8 text, no empty text events, calls numbered from 0
// with a start directly followed by its arguments (a JSON object text), and no marker in a
// content event unless `final_content` (the whole content) has it too.
inline void expect_well_formed(const OutputEvents& events, OutputFormat format,
                               const std::string& final_content) {
  size_t next_call = 0;
  const std::vector<std::string> markers = format_markers(format);
  for (size_t i = 0; i < events.size(); ++i) {
    const OutputEvent& e = events[i];
    EXPECT_TRUE(jinja::unicode::is_valid_utf8(e.text)) << "event " << i;
    switch (e.kind) {
      case OutputEventKind::kContent:
        EXPECT_FALSE(e.text.empty()) << "empty content event " << i;
        for (const std::string& m : markers) {
          if (final_content.find(m) == std::string::npos) {
            EXPECT_EQ(e.text.find(m), std::string::npos) << "marker " << m << " leaked: " << e.text;
          }
        }
        break;
      case OutputEventKind::kReasoning:
        EXPECT_FALSE(e.text.empty()) << "empty reasoning event " << i;
        break;
      case OutputEventKind::kToolCallStart:
        EXPECT_EQ(e.tool_index, next_call);
        EXPECT_FALSE(e.name.empty());
        EXPECT_FALSE(e.id.empty());
        EXPECT_TRUE(jinja::unicode::is_valid_utf8(e.name));
        EXPECT_TRUE(jinja::unicode::is_valid_utf8(e.id));
        ASSERT_LT(i + 1, events.size()) << "call start without arguments";
        EXPECT_EQ(events[i + 1].kind, OutputEventKind::kToolCallArguments);
        EXPECT_EQ(events[i + 1].tool_index, e.tool_index);
        ++next_call;
        break;
      case OutputEventKind::kToolCallArguments: {
        ASSERT_GT(i, 0u);
        EXPECT_EQ(events[i - 1].kind, OutputEventKind::kToolCallStart);
        const auto args = nlohmann::ordered_json::parse(e.text, nullptr, false);
        EXPECT_TRUE(args.is_object()) << e.text;
        break;
      }
    }
  }
}

}  // namespace inferd::chat::testing

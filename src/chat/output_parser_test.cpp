// Data-driven OutputParser tests: every case in tests/data/tool_calls/cases (README there) runs
// through the whole-text path and through streams split at every byte position, byte by byte,
// and at random token-like positions; all must fold to the expected message and produce the
// same normalised event sequence.
#include "chat/output_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/output_parser_openai.h"
#include "chat/output_parser_testing.h"
#include "chat/tool_call_json.h"
#include "testing/test_paths.h"

namespace inferd::chat {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;
using testing::fold;
using testing::normalized;

fs::path cases_dir() {
  return ::inferd::testing::source_dir() / "tests" / "data" / "tool_calls" / "cases";
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(cases_dir(), ec)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Case {
  OutputParserOptions options;
  std::string output;
  json expected;
};

Case load_case(const std::string& name) {
  const json doc = json::parse(testing::read_text_file(cases_dir() / (name + ".json")), nullptr,
                               /*allow_exceptions=*/false);
  Case c;
  EXPECT_TRUE(doc.is_object()) << name << ": not a JSON object";
  if (!doc.is_object()) return c;
  const std::optional<OutputFormat> format =
      output_format_from_name(doc.value("format", std::string()));
  EXPECT_TRUE(format.has_value()) << name << ": unknown format";
  c.options.format = format.value_or(OutputFormat::kGeneric);
  c.options.parse_tool_calls = doc.value("tools", true);
  c.options.starts_in_reasoning = doc.value("starts_in_reasoning", false);
  c.options.parse_reasoning = doc.value("parse_reasoning", true);
  c.options.id_generator = testing::indexed_call_id;
  const json& output = doc["output"];
  if (output.is_string()) {
    c.output = output.get<std::string>();
  } else {
    for (const json& piece : output) c.output += piece.get<std::string>();
  }
  c.expected = doc["expected"];
  return c;
}

void expect_matches(const ParsedOutput& got, const json& expected) {
  const json& content = expected["content"];
  if (content.is_null()) {
    EXPECT_TRUE(got.content_is_null()) << "content: " << got.content;
  } else {
    EXPECT_EQ(got.content, content.get<std::string>());
    EXPECT_FALSE(got.content_is_null());
  }
  EXPECT_EQ(got.reasoning, expected.value("reasoning_content", std::string()));
  const json calls = expected.value("tool_calls", json::array());
  ASSERT_EQ(got.tool_calls.size(), calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(got.tool_calls[i].name, calls[i]["name"].get<std::string>()) << "call " << i;
    EXPECT_EQ(got.tool_calls[i].arguments, compact_json(calls[i]["arguments"])) << "call " << i;
    EXPECT_EQ(got.tool_calls[i].id, calls[i].value("id", testing::indexed_call_id(i)))
        << "call " << i;
  }
}

class OutputParserCase : public ::testing::TestWithParam<std::string> {};

TEST_P(OutputParserCase, WholeText) {
  const Case c = load_case(GetParam());
  const OutputEvents events = testing::run_whole(c.options, c.output);
  const ParsedOutput whole = fold(events);
  expect_matches(whole, c.expected);
  testing::expect_well_formed(events, c.options.format, whole.content);
  EXPECT_EQ(parse_output(c.output, c.options), whole);
  // finish_reason follows the calls.
  OutputParser parser(c.options);
  parser.push(c.output);
  parser.finish();
  EXPECT_EQ(parser.num_tool_calls(), whole.tool_calls.size());
}

TEST_P(OutputParserCase, EverySplitPosition) {
  const Case c = load_case(GetParam());
  const OutputEvents reference = normalized(testing::run_whole(c.options, c.output));
  const ParsedOutput whole = fold(reference);
  for (size_t cut = 0; cut <= c.output.size(); ++cut) {
    const OutputEvents events = testing::run_split(c.options, c.output, {cut});
    testing::expect_well_formed(events, c.options.format, whole.content);
    ASSERT_EQ(normalized(events), reference) << "split at byte " << cut;
  }
}

TEST_P(OutputParserCase, ByteByByte) {
  const Case c = load_case(GetParam());
  const OutputEvents reference = normalized(testing::run_whole(c.options, c.output));
  const OutputEvents events = testing::run_bytewise(c.options, c.output);
  testing::expect_well_formed(events, c.options.format, fold(reference).content);
  EXPECT_EQ(normalized(events), reference);
}

TEST_P(OutputParserCase, RandomTokenSplits) {
  const Case c = load_case(GetParam());
  const OutputEvents reference = normalized(testing::run_whole(c.options, c.output));
  const ParsedOutput whole = fold(reference);
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const size_t max_piece = 2 + seed % 11;
    const OutputEvents events = testing::run_split(
        c.options, c.output, testing::random_cuts(c.output.size(), seed, max_piece));
    testing::expect_well_formed(events, c.options.format, whole.content);
    ASSERT_EQ(normalized(events), reference) << "seed " << seed;
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, OutputParserCase, ::testing::ValuesIn(case_names()), test_name);

TEST(OutputParserCases, DataPresent) {
  EXPECT_GE(case_names().size(), 40u) << "cases missing from " << cases_dir();
}

// Streaming behaviour the data cases cannot show: when events come out.

OutputParserOptions hermes_with_tools() {
  OutputParserOptions options;
  options.format = OutputFormat::kHermes;
  options.parse_tool_calls = true;
  options.id_generator = testing::indexed_call_id;
  return options;
}

TEST(OutputParserStreaming, ContentFlowsUntilAPossibleMarker) {
  OutputParser parser(hermes_with_tools());
  OutputEvents events = parser.push("Hello wor");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, "Hello wor");
  // "<tool" could begin "<tool_call>": held back.
  events = parser.push("ld <tool");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, "ld");  // the space before a possible marker is held too
  // "<tools" cannot: released.
  events = parser.push("s>");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, " <tools>");
}

TEST(OutputParserStreaming, CallIsEmittedWhenComplete) {
  OutputParser parser(hermes_with_tools());
  EXPECT_TRUE(parser.push("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}").empty());
  EXPECT_TRUE(parser.push("\n</tool_").empty());
  const OutputEvents events = parser.push("call>");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, OutputEventKind::kToolCallStart);
  EXPECT_EQ(events[0].name, "f");
  EXPECT_EQ(events[0].id, "call_0");
  EXPECT_EQ(events[1].kind, OutputEventKind::kToolCallArguments);
  EXPECT_EQ(events[1].text, "{\"a\":1}");
  EXPECT_EQ(parser.num_tool_calls(), 1u);
  EXPECT_TRUE(parser.finish().empty());
}

TEST(OutputParserStreaming, MalformedCallIsReleasedAsSoonAsItFails) {
  OutputParser parser(hermes_with_tools());
  EXPECT_TRUE(parser.push("<tool_call>\n{\"name\"").empty());
  const OutputEvents events = parser.push(" 5");  // no JSON object continues like this
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, "<tool_call>\n{\"name\" 5");
}

TEST(OutputParserStreaming, ReasoningStreamsAndHoldsTheCloseTag) {
  OutputParserOptions options;
  options.format = OutputFormat::kDeepSeekR1;
  options.starts_in_reasoning = true;
  OutputParser parser(options);
  OutputEvents events = parser.push("\nFirst thought.\nSecond </thi");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, OutputEventKind::kReasoning);
  EXPECT_EQ(events[0].text, "First thought.\nSecond");
  events = parser.push("nk>\n\nAnswer");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, OutputEventKind::kContent);
  EXPECT_EQ(events[0].text, "Answer");
}

TEST(OutputParserStreaming, LlamaHoldsAMessageThatStartsLikeJson) {
  OutputParserOptions options;
  options.format = OutputFormat::kLlama3;
  options.parse_tool_calls = true;
  OutputParser parser(options);
  EXPECT_TRUE(parser.push("{\"name\": \"f\", ").empty());
  // Not JSON any more: released at once.
  const OutputEvents events = parser.push("oops");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, "{\"name\": \"f\", oops");
}

TEST(OutputParserStreaming, DefaultIdsFollowTheFormat) {
  OutputParserOptions options;
  options.format = OutputFormat::kMistral;
  options.parse_tool_calls = true;
  ParsedOutput out = parse_output("[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}]", options);
  ASSERT_EQ(out.tool_calls.size(), 1u);
  EXPECT_EQ(out.tool_calls[0].id.size(), 9u);
  options.format = OutputFormat::kHermes;
  out = parse_output("<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>", options);
  ASSERT_EQ(out.tool_calls.size(), 1u);
  EXPECT_EQ(out.tool_calls[0].id.rfind("call_", 0), 0u);
  EXPECT_EQ(out.tool_calls[0].id.size(), 5u + 24u);
}

TEST(OutputParserStreaming, LongCallsParseInLinearTime) {
  // A 1 MB argument streamed in 4-byte pieces: the throttled re-parse keeps this fast.
  std::string text = "<tool_call>\n{\"name\": \"write\", \"arguments\": {\"text\": \"";
  text += std::string(1 << 20, 'x');
  text += "\"}}\n</tool_call>";
  OutputParserOptions options = hermes_with_tools();
  std::vector<size_t> cuts;
  for (size_t i = 4; i < text.size(); i += 4) cuts.push_back(i);
  const ParsedOutput out = fold(testing::run_split(options, text, cuts));
  ASSERT_EQ(out.tool_calls.size(), 1u);
  EXPECT_EQ(out.tool_calls[0].arguments.size(), (1u << 20) + 11u);  // {"text":"..."}
}

TEST(OutputParserOpenAI, MessageAndDeltas) {
  OutputParserOptions options = hermes_with_tools();
  const std::string text =
      "<think>plan</think>Sure.<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}}</tool_call>";
  const ParsedOutput out = parse_output(text, options);
  EXPECT_EQ(
      openai_message(out).dump(),
      R"({"role":"assistant","content":"Sure.","reasoning_content":"plan","tool_calls":)"
      R"([{"id":"call_0","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]})");
  const OutputEvents events = testing::run_whole(options, text);
  const std::vector<nlohmann::ordered_json> deltas = openai_deltas(events);
  ASSERT_EQ(deltas.size(), 3u);
  EXPECT_EQ(deltas[0].dump(), R"({"reasoning_content":"plan"})");
  EXPECT_EQ(deltas[1].dump(), R"({"content":"Sure."})");
  EXPECT_EQ(deltas[2].dump(), R"({"tool_calls":[{"index":0,"id":"call_0","type":"function",)"
                              R"("function":{"name":"f","arguments":"{\"a\":1}"}}]})");
  EXPECT_EQ(openai_finish_reason(1, "stop"), "tool_calls");
  EXPECT_EQ(openai_finish_reason(0, "length"), "length");

  ParsedOutput only_calls = out;
  only_calls.content.clear();
  only_calls.reasoning.clear();
  EXPECT_TRUE(openai_message(only_calls)["content"].is_null());
  ParsedOutput empty;
  EXPECT_EQ(openai_message(empty).dump(), R"({"role":"assistant","content":""})");
}

TEST(OutputParserOpenAI, ArgumentsWithoutStartBecomeAnArgumentsDelta) {
  OutputEvents events(1);
  events[0].kind = OutputEventKind::kToolCallArguments;
  events[0].tool_index = 2;
  events[0].text = "{\"x\":";
  const std::vector<nlohmann::ordered_json> deltas = openai_deltas(events);
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].dump(), R"({"tool_calls":[{"index":2,"function":{"arguments":"{\"x\":"}}]})");
}

}  // namespace
}  // namespace inferd::chat

#include "engine/grammar/forced_call_grammar.h"

#include <gtest/gtest.h>

#include "chat/tool_call_format.h"
#include "engine/grammar/grammar_testing.h"

namespace inferd::engine {
namespace {

using Json = nlohmann::ordered_json;

// Every byte as a token (ids 0..255), then the control tokens [TOOL_CALLS] (256) and <tool_call>
// (257), then EOG (258).
std::shared_ptr<const GrammarVocab> vocab_with_controls() {
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, static_cast<char>(b)));
  return testing::make_vocab(bytes, {"[TOOL_CALLS]", "<tool_call>"});
}

constexpr TokenId kToolCalls = 256, kToolCallTag = 257, kEog = 258;

Status feed(GrammarMatcher& m, std::string_view text) {
  for (char c : text) INFERD_RETURN_IF_ERROR(m.accept_token(static_cast<uint8_t>(c)));
  return {};
}

std::vector<ToolSchema> weather_tools() {
  return {{"get_weather",
           Json::parse(
               R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")},
          {"now", Json()}};
}

std::shared_ptr<const CompiledGrammar> compile(chat::OutputFormat format,
                                               std::span<const ToolSchema> tools) {
  auto vocab = vocab_with_controls();
  auto g = forced_call_grammar(*vocab, format, tools);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return nullptr;
  auto c = CompiledGrammar::compile(*g, vocab);
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? *c : nullptr;
}

TEST(ForcedCallGrammar, ControlTokenTextsAreTokens) {
  const auto tools = weather_tools();
  auto g = compile(chat::OutputFormat::kMistral, tools);
  ASSERT_TRUE(g);
  GrammarMatcher m(g);
  EXPECT_TRUE(m.is_allowed(kToolCalls));
  EXPECT_FALSE(m.is_allowed('[')) << "[TOOL_CALLS] cannot be spelled in bytes";
  ASSERT_TRUE(m.accept_token(kToolCalls).ok());
  ASSERT_TRUE(feed(m, R"([{"name": "get_weather", "arguments": {"city": "Paris"}}])").ok());
  EXPECT_TRUE(m.can_terminate());
  EXPECT_TRUE(m.is_allowed(kEog));
}

TEST(ForcedCallGrammar, EveryToolIsAnAlternativeAndArgumentsFollowTheSchema) {
  const auto tools = weather_tools();
  auto g = compile(chat::OutputFormat::kHermes, tools);
  ASSERT_TRUE(g);
  const chat::ForcedCallText weather =
      chat::forced_call_text(chat::OutputFormat::kHermes, "get_weather");
  const chat::ForcedCallText now = chat::forced_call_text(chat::OutputFormat::kHermes, "now");
  {
    GrammarMatcher m(g);
    EXPECT_TRUE(m.is_allowed(kToolCallTag));
    ASSERT_TRUE(m.accept_token(kToolCallTag).ok());
    ASSERT_TRUE(
        feed(m, weather.before_arguments.substr(std::string_view("<tool_call>").size())).ok());
    EXPECT_FALSE(feed(m, R"({"town": "Paris"})").ok()) << "arguments must follow the schema";
  }
  {
    GrammarMatcher m(g);
    ASSERT_TRUE(m.accept_token(kToolCallTag).ok());
    ASSERT_TRUE(feed(m, now.before_arguments.substr(std::string_view("<tool_call>").size())).ok());
    ASSERT_TRUE(feed(m, R"({"any": [1, 2]})").ok()) << "no parameters schema: any object";
    EXPECT_FALSE(m.can_terminate());
    ASSERT_TRUE(feed(m, now.after_arguments).ok());
    EXPECT_TRUE(m.can_terminate());
    EXPECT_TRUE(m.is_finished()) << "exactly one call";
  }
  {
    GrammarMatcher m(g);
    ASSERT_TRUE(m.accept_token(kToolCallTag).ok());
    EXPECT_FALSE(feed(m, "\n{\"name\": \"other\"").ok()) << "only the given tools";
  }
}

TEST(ForcedCallGrammar, TextWithoutControlTokensIsLiteral) {
  auto vocab = vocab_with_controls();
  Grammar g;
  g.set_root(g.add_rule("root", text_with_control_tokens(g, *vocab, "a<tool_call>b[TOOL_CALLS]")));
  EXPECT_EQ(g.to_gbnf(), "root ::= \"a\" @257 \"b\" @256\n");
  Grammar plain;
  plain.set_root(plain.add_rule("root", text_with_control_tokens(plain, *vocab, "</s> plain")));
  EXPECT_EQ(plain.to_gbnf(), "root ::= \"</s> plain\"\n") << "end-of-generation tokens stay text";
}

TEST(ForcedCallGrammar, Errors) {
  auto vocab = vocab_with_controls();
  const auto hermes = chat::OutputFormat::kHermes;
  EXPECT_EQ(forced_call_grammar(*vocab, hermes, {}).status().code(), StatusCode::kInvalidArgument);
  const std::vector<ToolSchema> unnamed = {{"", Json()}};
  EXPECT_FALSE(forced_call_grammar(*vocab, hermes, unnamed).ok());
  const std::vector<ToolSchema> twice = {{"f", Json()}, {"f", Json()}};
  EXPECT_NE(forced_call_grammar(*vocab, hermes, twice).status().message().find("twice"),
            std::string::npos);
  const std::vector<ToolSchema> not_object = {{"f", Json::parse(R"({"type":"string"})")}};
  EXPECT_NE(forced_call_grammar(*vocab, hermes, not_object).status().message().find("object"),
            std::string::npos);
  const std::vector<ToolSchema> unsupported = {{"f", Json::parse(R"({"type":"object","not":{}})")}};
  auto r = forced_call_grammar(*vocab, hermes, unsupported);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("tool \"f\""), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("\"not\""), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace inferd::engine

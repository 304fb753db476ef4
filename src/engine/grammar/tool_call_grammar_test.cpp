#include "engine/grammar/tool_call_grammar.h"

#include <gtest/gtest.h>

#include "engine/grammar/grammar_testing.h"

namespace inferd::engine {
namespace {

using Json = nlohmann::ordered_json;

std::vector<ToolDefinition> weather_tools() {
  return {{"get_weather", Json::parse(R"({"type":"object","properties":{"city":{"type":"string"},
              "unit":{"enum":["c","f"]}},"required":["city"],"additionalProperties":false})")},
          {"get_time", Json()}};
}

std::shared_ptr<const CompiledGrammar> compile_tools(const ToolCallGrammarOptions& o,
                                                     std::shared_ptr<const GrammarVocab> vocab) {
  const auto tools = weather_tools();
  auto g = tool_call_grammar(tools, o);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return nullptr;
  auto c = CompiledGrammar::compile(*g, std::move(vocab));
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? *c : nullptr;
}

TEST(ToolCallGrammar, Hermes) {
  auto g = compile_tools({}, testing::byte_vocab());
  EXPECT_TRUE(testing::matches_bytewise(
      g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>"));
  EXPECT_TRUE(testing::matches_bytewise(
      g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": \"c\"}}\n</tool_call>\n"
         "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"));
  EXPECT_FALSE(testing::matches_bytewise(g, "<tool_call>{\"name\": \"get_weather\", \"arguments\": {}}</tool_call>"))
      << "city is required";
  EXPECT_FALSE(testing::matches_bytewise(g, "<tool_call>{\"name\": \"other\", \"arguments\": {}}</tool_call>"));
  EXPECT_FALSE(testing::matches_bytewise(g, "{\"name\": \"get_time\", \"arguments\": {}}"));
  EXPECT_FALSE(testing::matches_bytewise(g, "")) << "at least one call";
}

TEST(ToolCallGrammar, HermesWithTheToolCallTokenAsOneToken) {
  // <tool_call> is an ordinary (user-defined) token of the vocabulary: it spells the same bytes.
  std::vector<std::string> texts;
  for (int b = 0; b < 256; ++b) texts.push_back(std::string(1, static_cast<char>(b)));
  texts.push_back("<tool_call>");
  auto vocab = testing::make_vocab(texts);
  auto g = compile_tools({}, vocab);
  GrammarMatcher m(g);
  EXPECT_TRUE(m.is_allowed(256));
  EXPECT_TRUE(m.is_allowed('<'));
  EXPECT_FALSE(m.is_allowed('{'));
  ASSERT_TRUE(m.accept_token(256).ok());
  ASSERT_TRUE(m.accept_bytes("{\"name\": \"get_time\", \"arguments\": {}}</tool_call>").ok());
  EXPECT_TRUE(m.can_terminate());
}

TEST(ToolCallGrammar, MistralControlToken) {
  std::vector<std::string> texts;
  for (int b = 0; b < 256; ++b) texts.push_back(std::string(1, static_cast<char>(b)));
  auto vocab = testing::make_vocab(texts, {"[TOOL_CALLS]"});  // id 256 special, 257 EOG
  ToolCallGrammarOptions o;
  o.format = ToolCallFormat::mistral(true);
  auto g = compile_tools(o, vocab);
  GrammarMatcher m(g);
  std::vector<float> logits(258, 0.0f);
  m.fill_allowed(logits);
  for (int i = 0; i < 258; ++i) EXPECT_EQ(std::isinf(logits[static_cast<size_t>(i)]), i != 256) << i;
  ASSERT_TRUE(m.accept_token(256).ok());
  ASSERT_TRUE(m.accept_bytes("[{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}, "
                             "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}]")
                  .ok());
  EXPECT_TRUE(m.can_terminate());
  EXPECT_TRUE(m.accept_token(257).ok());

  o.format = ToolCallFormat::mistral(false);
  auto text = compile_tools(o, testing::byte_vocab());
  EXPECT_TRUE(testing::matches_bytewise(text, "[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}}]"));
}

TEST(ToolCallGrammar, SingleCallLlama3) {
  ToolCallGrammarOptions o;
  o.format = ToolCallFormat::llama3_json();
  o.parallel = false;
  auto g = compile_tools(o, testing::byte_vocab());
  EXPECT_TRUE(testing::matches_bytewise(g, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Lima\"}}"));
  EXPECT_FALSE(testing::matches_bytewise(g, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lima\"}}"));
  EXPECT_FALSE(testing::matches_bytewise(
      g, "{\"name\": \"get_time\", \"parameters\": {}}; {\"name\": \"get_time\", \"parameters\": {}}"));
}

TEST(ToolCallGrammar, Errors) {
  ToolCallGrammarOptions o;
  EXPECT_EQ(tool_call_grammar({}, o).status().message(), "no tools to call");
  std::vector<ToolDefinition> dup = {{"f", Json()}, {"f", Json()}};
  EXPECT_EQ(tool_call_grammar(dup, o).status().message(), "tool \"f\" is defined twice");
  std::vector<ToolDefinition> bad = {{"f", Json::parse(R"({"type":"object","properties":{"x":{"not":{}}}})")}};
  const Status st = tool_call_grammar(bad, o).status();
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_EQ(st.message(), "tool \"f\" parameters: unsupported JSON Schema keyword \"not\" at #/properties/x");
  o.format.begin = "\"unterminated";
  std::vector<ToolDefinition> ok = {{"f", Json()}};
  EXPECT_NE(tool_call_grammar(ok, o).status().message().find("not valid GBNF"), std::string::npos);
  // A tool named like an internal rule.
  std::vector<ToolDefinition> clash = {{"call", Json::parse(R"({"type":"object"})")}};
  EXPECT_TRUE(tool_call_grammar(clash, ToolCallGrammarOptions{}).ok());
}

}  // namespace
}  // namespace inferd::engine

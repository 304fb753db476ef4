#include "inferd/structured_output.h"

#include <cmath>

#include <gtest/gtest.h>

#include "chat/tool_call_format.h"
#include "engine/grammar/model_grammar_cache.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

using Json = nlohmann::ordered_json;

class StructuredOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    INFERD_REQUIRE_SHARED(path, "fixtures/fixture-qwen2-q8_0.gguf");
    auto m = Model::load(path.string());
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    model_ = *m;
  }

  // Feeds the model's tokenization of `text` through `c`, checking before each token that
  // apply() leaves it possible. Returns false at the first token the constraint refuses.
  bool feed(TokenConstraint& c, std::string_view text) {
    for (TokenId t : model_->tokenize(text, /*add_special=*/false)) {
      if (!allows(c, t)) return false;
      if (!c.accept(t).ok()) {
        ADD_FAILURE() << "apply() allowed token " << t << " that accept() refused";
        return false;
      }
    }
    return true;
  }

  bool allows(TokenConstraint& c, TokenId t) {
    std::vector<float> logits(static_cast<size_t>(model_->vocab_size()), 0.0f);
    c.apply(logits);
    return !std::isinf(logits[static_cast<size_t>(t)]);
  }

  std::shared_ptr<const Model> model_;
};

TEST_F(StructuredOutputTest, JsonSchemaConstraintFollowsTheSchema) {
  const Json schema = Json::parse(R"({"type":"object","properties":{"name":{"type":"string"},
      "age":{"type":"integer","minimum":0}},"required":["name","age"]})");
  auto c = json_schema_constraint(*model_, schema);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  const TokenId eos = *model_->eos();
  EXPECT_FALSE(allows(**c, eos));
  ASSERT_TRUE(feed(**c, R"({"name": "Ada", "age": 36})"));
  EXPECT_TRUE(allows(**c, eos));
  ASSERT_TRUE((*c)->accept(eos).ok());
  EXPECT_TRUE((*c)->is_finished());

  auto wrong = json_schema_constraint(*model_, schema);
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(feed(**wrong, R"({"name": "Ada", "age": -1})"));
}

TEST_F(StructuredOutputTest, JsonObjectConstraint) {
  auto c = json_object_constraint(*model_);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  ASSERT_TRUE(feed(**c, R"({"a": [1, true, null, {"b": "c"}]})"));
  EXPECT_TRUE(allows(**c, *model_->eos()));
  auto array = json_object_constraint(*model_);
  ASSERT_TRUE(array.ok());
  EXPECT_FALSE(feed(**array, "[1]")) << "an object, not any value";
}

TEST_F(StructuredOutputTest, UnsupportedSchemasAreInvalidArguments) {
  auto r = json_schema_constraint(
      *model_, Json::parse(R"({"type":"object","properties":{"a":{"not":{}}}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("\"not\""), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("#/properties/a"), std::string::npos) << r.status().message();

  auto typo = json_schema_constraint(*model_, Json::parse(R"({"type":"objekt"})"));
  EXPECT_EQ(typo.status().code(), StatusCode::kInvalidArgument);
  auto impossible =
      json_schema_constraint(*model_, Json::parse(R"({"type":"integer","minimum":5,"maximum":1})"));
  EXPECT_EQ(impossible.status().code(), StatusCode::kInvalidArgument);
  Json bad_utf8 = Json::object();
  bad_utf8["const"] = std::string("\xff");
  EXPECT_EQ(json_schema_constraint(*model_, bad_utf8).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(StructuredOutputTest, RepeatedSchemasShareOneCompiledGrammar) {
  const Json schema = Json::parse(R"({"type":"array","items":{"type":"boolean"},"maxItems":3})");
  auto& cache = engine::ModelGrammarCache::global();
  ASSERT_TRUE(json_schema_constraint(*model_, schema).ok());
  const size_t cached = cache.num_grammars(*model_);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(json_schema_constraint(*model_, schema).ok());
  EXPECT_EQ(cache.num_grammars(*model_), cached);
  ASSERT_TRUE(json_schema_constraint(*model_, Json::parse(R"({"type":"boolean"})")).ok());
  EXPECT_EQ(cache.num_grammars(*model_), cached + 1);
}

TEST_F(StructuredOutputTest, ToolCallConstraintWritesTheFormatsForcedCall) {
  const std::vector<ToolSchema> tools = {
      {"get_weather",
       Json::parse(
           R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")},
      {"get_time", Json()}};
  for (chat::OutputFormat format :
       {chat::OutputFormat::kHermes, chat::OutputFormat::kLlama3,
        chat::OutputFormat::kFunctionaryV31, chat::OutputFormat::kDeepSeekR1}) {
    SCOPED_TRACE(std::string(chat::output_format_name(format)));
    auto c = tool_call_constraint(*model_, format, tools);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    const chat::ForcedCallText text = chat::forced_call_text(format, "get_weather");
    ASSERT_TRUE(feed(**c, text.before_arguments + R"({"city": "Paris"})" + text.after_arguments));
    EXPECT_TRUE(allows(**c, *model_->eos()));
    EXPECT_TRUE((*c)->is_finished()) << "one call, nothing after it";
  }
  auto named =
      tool_call_constraint(*model_, chat::OutputFormat::kHermes, std::span(tools).subspan(1));
  ASSERT_TRUE(named.ok());
  const chat::ForcedCallText weather =
      chat::forced_call_text(chat::OutputFormat::kHermes, "get_weather");
  EXPECT_FALSE(feed(**named, weather.before_arguments)) << "only the named tool";

  auto none = tool_call_constraint(*model_, chat::OutputFormat::kHermes, {});
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  const std::vector<ToolSchema> bad = {
      {"f", Json::parse(R"({"type":"object","properties":{"x":{"if":{}}}})")}};
  auto unsupported = tool_call_constraint(*model_, chat::OutputFormat::kHermes, bad);
  EXPECT_EQ(unsupported.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unsupported.status().message().find("tool \"f\""), std::string::npos)
      << unsupported.status().message();
}

TEST_F(StructuredOutputTest, GbnfConstraint) {
  auto c = gbnf_constraint(*model_, R"(root ::= "yes" | "no")");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  ASSERT_TRUE(feed(**c, "no"));
  EXPECT_TRUE((*c)->is_finished());
  auto bad = gbnf_constraint(*model_, "root ::= (");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("GBNF"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace inferd

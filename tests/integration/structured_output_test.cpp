// Structured output end to end: EngineLoop sampling at temperature 1 from fixture models (random
// weights, real vocabularies) with a JSON Schema, JSON object or forced tool-call constraint, for
// several seeds at once. Every output must end by itself (finish reason "stop") and be valid:
// it parses, and an independent validator accepts it against the schema.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include <nlohmann/json.hpp>

#include "chat/tool_call_format.h"
#include "engine/grammar/json_schema_checker_testing.h"
#include "inferd/engine_loop.h"
#include "inferd/structured_output.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

using Json = nlohmann::ordered_json;

class TextSink : public GenerationSink {
 public:
  void on_token(TokenId, std::string_view piece, const TokenLogprobs*) override {
    std::lock_guard<std::mutex> lock(mu_);
    text += piece;
  }
  void on_finish(const GenerationResult& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    text += r.tail_text;
    result = r;
    done = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done; });
  }

  std::string text;
  GenerationResult result;
  bool done = false;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

constexpr int kSeeds = 6;

// Runs one request per seed, all submitted at once, and returns their sinks.
std::vector<std::shared_ptr<TextSink>> generate(
    const std::shared_ptr<const Model>& model,
    const std::function<Result<std::unique_ptr<TokenConstraint>>()>& make_constraint,
    int64_t max_tokens = 600) {
  auto loop = EngineLoop::create(model, {.max_slots = 3, .ctx_per_slot = 1024, .num_threads = 2});
  EXPECT_TRUE(loop.ok()) << loop.status().to_string();
  std::vector<std::shared_ptr<TextSink>> sinks;
  if (!loop.ok()) return sinks;
  for (int seed = 0; seed < kSeeds; ++seed) {
    GenerationRequest r;
    r.prompt = model->tokenize("Answer in JSON:", /*add_special=*/true);
    r.sampling.temperature = 1.0f;
    r.sampling.seed = 1000 + seed;
    r.max_tokens = max_tokens;
    auto c = make_constraint();
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    if (!c.ok()) return {};
    r.constraint = std::move(c).value();
    sinks.push_back(std::make_shared<TextSink>());
    EXPECT_TRUE((*loop)->submit(std::move(r), sinks.back()).ok());
  }
  for (auto& s : sinks) s->wait();
  return sinks;
}

const char* kSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 12},
    "age": {"type": "integer", "minimum": 0, "maximum": 130},
    "score": {"type": "number", "exclusiveMinimum": -1, "maximum": 1},
    "born": {"type": "string", "format": "date"},
    "role": {"enum": ["admin", "user", null]},
    "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]{1,6}$"}, "maxItems": 3},
    "address": {"$ref": "#/$defs/address"},
    "active": {"type": "boolean"}
  },
  "required": ["name", "age", "score", "role", "tags", "address"],
  "additionalProperties": false,
  "$defs": {
    "address": {
      "type": "object",
      "properties": {"city": {"type": "string", "maxLength": 10}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
      "required": ["city", "zip"]
    }
  }
})";

class StructuredOutput : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    INFERD_REQUIRE_SHARED(path, std::string("fixtures/") + GetParam());
    auto m = Model::load(path.string());
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    model_ = *m;
  }
  std::shared_ptr<const Model> model_;
};

TEST_P(StructuredOutput, JsonSchemaOutputValidates) {
  const Json schema = Json::parse(kSchema);
  const engine::testing::JsonSchemaChecker checker(schema);
  auto sinks = generate(model_, [&] { return json_schema_constraint(*model_, schema); });
  ASSERT_EQ(sinks.size(), static_cast<size_t>(kSeeds));
  std::set<std::string> distinct;
  for (const auto& s : sinks) {
    SCOPED_TRACE(s->text);
    EXPECT_EQ(s->result.reason, FinishReason::kStop) << s->result.error.to_string();
    const Json out = Json::parse(s->text, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(out.is_discarded()) << "not JSON";
    EXPECT_EQ(checker.check(out), "");
    distinct.insert(s->text);
  }
  EXPECT_GT(distinct.size(), 1u) << "seeds give different outputs";
}

TEST_P(StructuredOutput, JsonObjectOutputParses) {
  auto sinks = generate(
      model_, [&] { return json_object_constraint(*model_); }, /*max_tokens=*/120);
  ASSERT_EQ(sinks.size(), static_cast<size_t>(kSeeds));
  for (const auto& s : sinks) {
    SCOPED_TRACE(s->text);
    if (s->result.reason == FinishReason::kLength) continue;  // any object: may be cut short
    EXPECT_EQ(s->result.reason, FinishReason::kStop) << s->result.error.to_string();
    const Json out = Json::parse(s->text, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(out.is_discarded()) << "not JSON";
    EXPECT_TRUE(out.is_object());
  }
}

TEST_P(StructuredOutput, ForcedToolCallHasValidArguments) {
  const std::vector<ToolSchema> tools = {
      {"get_weather",
       Json::parse(R"({"type":"object","properties":{"city":{"type":"string","maxLength":12},
          "unit":{"enum":["celsius","fahrenheit"]}},"required":["city","unit"]})")},
      {"get_time",
       Json::parse(R"({"type":"object","properties":{"zone":{"type":"string","maxLength":8}},
          "required":["zone"]})")}};
  const auto format = chat::OutputFormat::kHermes;
  auto sinks = generate(model_, [&] { return tool_call_constraint(*model_, format, tools); });
  ASSERT_EQ(sinks.size(), static_cast<size_t>(kSeeds));
  for (const auto& s : sinks) {
    SCOPED_TRACE(s->text);
    EXPECT_EQ(s->result.reason, FinishReason::kStop) << s->result.error.to_string();
    bool matched = false;
    for (const ToolSchema& tool : tools) {
      const chat::ForcedCallText t = chat::forced_call_text(format, tool.name);
      if (!s->text.starts_with(t.before_arguments) || !s->text.ends_with(t.after_arguments))
        continue;
      matched = true;
      const std::string args =
          s->text.substr(t.before_arguments.size(),
                         s->text.size() - t.before_arguments.size() - t.after_arguments.size());
      const Json out = Json::parse(args, nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(out.is_discarded()) << "arguments are not JSON: " << args;
      EXPECT_EQ(engine::testing::JsonSchemaChecker(tool.parameters).check(out), "");
    }
    EXPECT_TRUE(matched) << "not a forced call of either tool";
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, StructuredOutput,
                         ::testing::Values("fixture-qwen2-q8_0.gguf", "fixture-llama-q8_0.gguf"),
                         [](const auto& info) {
                           std::string name = info.param;
                           return name.substr(8, name.find('-', 8) - 8);
                         });

}  // namespace
}  // namespace inferd

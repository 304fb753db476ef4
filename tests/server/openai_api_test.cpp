// The OpenAI-compatible API over a real connection on 127.0.0.1, on the llama F16 fixture model:
// response shapes, llama.cpp's greedy continuation through /v1/completions, streaming, n, stop,
// seeds, log-probabilities, echo scoring, embeddings, tokenize, and the error answers.
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "server/api/api_context.h"
#include "server/http_test_support.h"
#include "server/openai_server.h"
#include "testing/test_paths.h"

namespace inferd::server::testing {
namespace {

using nlohmann::json;

constexpr const char* kModel = "fixtures/fixture-llama-f16.gguf";

std::string to_hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

class OpenAiApiTest : public HttpServerFixture {
 protected:
  static void SetUpTestSuite() {
    const auto path = inferd::testing::shared_path(kModel);
    if (path.empty() || !std::filesystem::exists(path)) return;
    ServedModelOptions o;
    o.path = path.string();
    o.id = "llama";
    o.aliases = {"llama-alias"};
    o.engine.ctx_per_slot = 1024;
    o.engine.num_threads = 2;
    auto m = ServedModel::load(o);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    auto api = std::make_shared<ApiContext>();
    std::vector<std::unique_ptr<ServedModel>> models;
    models.push_back(std::move(m).value());
    api->publish(std::move(models));
    api_ = api;
  }
  static void TearDownTestSuite() { api_.reset(); }

  void SetUp() override {
    INFERD_REQUIRE_SHARED(path, kModel);
    auto router = make_openai_router(api_, "/api/v1");
    ASSERT_TRUE(router.ok()) << router.status().to_string();
    HttpServerOptions o = test_options();
    o.max_body_bytes = 1 << 20;
    start_server(std::move(router).value(), o);
  }

  // POSTs (or GETs when body is empty and method GET) and parses the JSON answer.
  std::pair<int, json> call(std::string_view method, std::string_view target, const std::string& body = "") {
    TestClient c(port_);
    auto res = c.request(method, target, body, {{"Content-Type", "application/json"}}, 30000ms);
    if (!res) return {0, nullptr};
    return {res->result_int(), json::parse(res->body(), nullptr, false)};
  }
  std::pair<int, json> post(std::string_view target, const json& body) { return call("POST", target, body.dump()); }

  // The SSE events of a streamed answer, parsed ("[DONE]" kept as a string).
  std::vector<json> stream(std::string_view target, const json& body, int* status = nullptr) {
    TestClient c(port_);
    auto res = c.request("POST", target, body.dump(), {{"Content-Type", "application/json"}}, 30000ms);
    std::vector<json> events;
    if (!res) return events;
    if (status) *status = res->result_int();
    EXPECT_EQ(field(*res, "Content-Type").rfind("text/event-stream", 0), 0u);
    const std::string& b = res->body();
    size_t pos = 0;
    while ((pos = b.find("data: ", pos)) != std::string::npos) {
      const size_t end = b.find("\n\n", pos);
      const std::string data = b.substr(pos + 6, end - pos - 6);
      events.push_back(data == "[DONE]" ? json("[DONE]") : json::parse(data, nullptr, false));
      pos = end;
    }
    return events;
  }

  static void expect_error(const std::pair<int, json>& r, int status, const std::string& param = "") {
    EXPECT_EQ(r.first, status) << r.second.dump();
    ASSERT_TRUE(r.second.is_object() && r.second.contains("error")) << r.second.dump();
    const json& e = r.second["error"];
    EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty());
    EXPECT_TRUE(e["type"].is_string());
    EXPECT_TRUE(e.contains("param") && e.contains("code"));
    if (!param.empty()) {
      EXPECT_EQ(e["param"], param) << r.second.dump();
    }
  }

  static std::shared_ptr<ApiContext> api_;
};

std::shared_ptr<ApiContext> OpenAiApiTest::api_;

TEST_F(OpenAiApiTest, GreedyCompletionMatchesTheReferenceContinuation) {
  std::ifstream f(inferd::testing::shared_path("fixtures/ref/fixture-llama-f16.json"));
  const json ref = json::parse(f);
  for (const json& c : ref["cases"]) {
    const auto r = post("/v1/completions", {{"model", "llama"}, {"prompt", c["prompt"]}, {"max_tokens", 16},
                                             {"temperature", 0}, {"logprobs", 1}});
    ASSERT_EQ(r.first, 200) << r.second.dump();
    const json& choice = r.second["choices"][0];
    if (c["prompt"].get<std::string>().rfind("<s>", 0) == 0) continue;  // special text is not parsed here
    EXPECT_EQ(to_hex(choice["text"]), c["greedy_text_hex"]) << c["prompt"];
    EXPECT_EQ(choice["finish_reason"], "length");
    // The log-probability of the first generated token matches llama.cpp's.
    EXPECT_NEAR(choice["logprobs"]["token_logprobs"][0].get<double>(), c["top5_logprobs"][0][0][1].get<double>(), 0.05);
    EXPECT_EQ(r.second["usage"]["prompt_tokens"], c["prompt_tokens"].size());
    EXPECT_EQ(r.second["usage"]["completion_tokens"], 16);
  }
}

TEST_F(OpenAiApiTest, ChatCompletionHasTheOpenAiShape) {
  const auto r = post("/v1/chat/completions", {{"model", "llama-alias"},
                                                {"messages", {{{"role", "system"}, {"content", "Be brief."}},
                                                              {{"role", "user"}, {"content", "Hello"}}}},
                                                {"max_tokens", 5}, {"seed", 7}});
  ASSERT_EQ(r.first, 200) << r.second.dump();
  const json& j = r.second;
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "llama-alias");
  EXPECT_TRUE(j["created"].is_number_integer());
  EXPECT_TRUE(j["system_fingerprint"].is_string());
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
  EXPECT_TRUE(j["choices"][0]["finish_reason"] == "length" || j["choices"][0]["finish_reason"] == "stop");
  const json& u = j["usage"];
  EXPECT_GT(u["prompt_tokens"].get<int>(), 5);
  EXPECT_EQ(u["total_tokens"].get<int>(), u["prompt_tokens"].get<int>() + u["completion_tokens"].get<int>());
  EXPECT_TRUE(u["prompt_tokens_details"]["cached_tokens"].is_number_integer());
}

TEST_F(OpenAiApiTest, ASecondTurnReusesTheFirstTurnsKvBlocks) {
  json messages = {{{"role", "system"}, {"content", "You answer questions about the history of mathematics in detail."}},
                   {{"role", "user"}, {"content", "Who was Euclid, and what did he write?"}}};
  const auto first = post("/v1/chat/completions", {{"messages", messages}, {"max_tokens", 8}, {"temperature", 0}});
  ASSERT_EQ(first.first, 200) << first.second.dump();
  EXPECT_EQ(first.second["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  messages.push_back({{"role", "assistant"}, {"content", first.second["choices"][0]["message"]["content"]}});
  messages.push_back({{"role", "user"}, {"content", "And Archimedes?"}});
  const auto second = post("/v1/chat/completions", {{"messages", messages}, {"max_tokens", 4}, {"temperature", 0}});
  ASSERT_EQ(second.first, 200) << second.second.dump();
  const int cached = second.second["usage"]["prompt_tokens_details"]["cached_tokens"];
  EXPECT_GE(cached, 16) << second.second.dump();
  EXPECT_EQ(cached % 16, 0);
  EXPECT_LT(cached, second.second["usage"]["prompt_tokens"].get<int>());
}

TEST_F(OpenAiApiTest, StreamedChatEqualsTheWholeAnswerWithTheSameSeed) {
  const json body = {{"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}},
                     {"max_tokens", 12}, {"seed", 42}, {"temperature", 1.0}};
  const auto whole = post("/v1/chat/completions", body);
  ASSERT_EQ(whole.first, 200);
  json sbody = body;
  sbody["stream"] = true;
  sbody["stream_options"] = {{"include_usage", true}};
  const auto events = stream("/api/v1/chat/completions", sbody);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  std::string finish;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    const json& e = events[i];
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    EXPECT_EQ(e["id"], events[0]["id"]);
    const json& c = e["choices"][0];
    if (c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
    if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
  }
  const json& usage_chunk = events[events.size() - 2];
  EXPECT_TRUE(usage_chunk["choices"].empty());
  // The same counts (the second request may reuse the first one's KV blocks).
  EXPECT_EQ(usage_chunk["usage"]["prompt_tokens"], whole.second["usage"]["prompt_tokens"]);
  EXPECT_EQ(usage_chunk["usage"]["completion_tokens"], whole.second["usage"]["completion_tokens"]);
  EXPECT_EQ(text, whole.second["choices"][0]["message"]["content"]);
  EXPECT_EQ(finish, whole.second["choices"][0]["finish_reason"]);
}

TEST_F(OpenAiApiTest, SeedsReproduceAndNGivesSeveralChoices) {
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 8}, {"temperature", 1.0}, {"seed", 5}, {"n", 2}};
  const auto a = post("/v1/completions", body);
  const auto b = post("/v1/completions", body);
  ASSERT_EQ(a.first, 200) << a.second.dump();
  ASSERT_EQ(a.second["choices"].size(), 2u);
  EXPECT_EQ(a.second["choices"][1]["index"], 1);
  EXPECT_EQ(a.second["choices"], b.second["choices"]);
  EXPECT_NE(a.second["choices"][0]["text"], a.second["choices"][1]["text"]);
  EXPECT_EQ(a.second["usage"]["completion_tokens"], 16);
}

TEST_F(OpenAiApiTest, StopStringEndsTheTextBeforeIt) {
  std::ifstream f(inferd::testing::shared_path("fixtures/ref/fixture-llama-f16.json"));
  const json ref = json::parse(f);
  std::string greedy;
  for (size_t i = 0; i < ref["cases"][0]["greedy_text_hex"].get<std::string>().size(); i += 2)
    greedy += static_cast<char>(std::stoi(ref["cases"][0]["greedy_text_hex"].get<std::string>().substr(i, 2), nullptr, 16));
  const std::string stop = greedy.substr(10, 4);
  const auto r = post("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 16}, {"temperature", 0},
                                           {"stop", {stop, "never-seen"}}});
  ASSERT_EQ(r.first, 200) << r.second.dump();
  EXPECT_EQ(r.second["choices"][0]["text"], greedy.substr(0, greedy.find(stop)));
  EXPECT_EQ(r.second["choices"][0]["finish_reason"], "stop");
}

TEST_F(OpenAiApiTest, ChatLogprobsListTheRequestedAlternatives) {
  const auto r = post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                                {"max_tokens", 4}, {"logprobs", true}, {"top_logprobs", 3}});
  ASSERT_EQ(r.first, 200) << r.second.dump();
  const json& content = r.second["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 4u);
  for (const json& t : content) {
    EXPECT_TRUE(t["token"].is_string());
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
    EXPECT_TRUE(t["bytes"].is_array());
    ASSERT_EQ(t["top_logprobs"].size(), 3u);
    EXPECT_GE(t["top_logprobs"][0]["logprob"].get<double>(), t["top_logprobs"][2]["logprob"].get<double>());
  }
}

TEST_F(OpenAiApiTest, EchoScoresThePromptWithoutGenerating) {
  const auto r = post("/v1/completions", {{"prompt", "The capital of France is"}, {"max_tokens", 0},
                                           {"echo", true}, {"logprobs", 0}});
  ASSERT_EQ(r.first, 200) << r.second.dump();
  const json& c = r.second["choices"][0];
  EXPECT_EQ(c["text"], "The capital of France is");
  const json& lp = c["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 6u);  // BOS and five tokens, as the reference tokenizes it
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  for (size_t i = 1; i < 6; ++i) EXPECT_LT(lp["token_logprobs"][i].get<double>(), 0.0);
  EXPECT_EQ(r.second["usage"]["completion_tokens"], 0);
}

TEST_F(OpenAiApiTest, EmbeddingsAreUnitVectorsInBothEncodings) {
  const auto r = post("/v1/embeddings", {{"input", {"hello world", "another text"}}});
  ASSERT_EQ(r.first, 200) << r.second.dump();
  ASSERT_EQ(r.second["data"].size(), 2u);
  const json& v = r.second["data"][1]["embedding"];
  EXPECT_EQ(r.second["data"][1]["index"], 1);
  double norm = 0;
  for (const json& x : v) norm += x.get<double>() * x.get<double>();
  EXPECT_NEAR(norm, 1.0, 1e-3);
  const auto b = post("/v1/embeddings", {{"input", "hello world"}, {"encoding_format", "base64"}});
  ASSERT_EQ(b.first, 200);
  const std::string s = b.second["data"][0]["embedding"];
  EXPECT_EQ(s.size(), (v.size() * 4 + 2) / 3 * 4);  // base64 of float32 bytes
  expect_error(post("/v1/embeddings", {{"input", "x"}, {"dimensions", 3}}), 400, "dimensions");
}

TEST_F(OpenAiApiTest, TokenizeAndDetokenizeRoundTrip) {
  const auto t = post("/tokenize", {{"content", "Once upon a time"}});
  ASSERT_EQ(t.first, 200) << t.second.dump();
  EXPECT_EQ(t.second["tokens"], json({1, 9038, 2501, 263, 931}));
  const auto d = post("/detokenize", {{"tokens", {9038, 2501, 263, 931}}});
  ASSERT_EQ(d.first, 200);
  EXPECT_EQ(d.second["content"], "Once upon a time");
  expect_error(post("/detokenize", {{"tokens", {-1}}}), 400, "tokens");
}

TEST_F(OpenAiApiTest, ModelsHealthAndIndex) {
  const auto list = call("GET", "/v1/models");
  ASSERT_EQ(list.first, 200);
  EXPECT_EQ(list.second["object"], "list");
  EXPECT_EQ(list.second["data"][0]["id"], "llama");
  EXPECT_EQ(call("GET", "/api/v1/models/llama-alias").second["id"], "llama");
  expect_error(call("GET", "/v1/models/nope"), 404);
  EXPECT_EQ(call("GET", "/health").first, 200);
  const auto index = call("GET", "/");
  EXPECT_EQ(index.second["name"], "inferd");
  EXPECT_NE(index.second["endpoints"].dump().find("POST /api/v1/chat/completions"), std::string::npos);
}

TEST_F(OpenAiApiTest, BadRequestsGetTheErrorEnvelope) {
  expect_error(call("POST", "/v1/chat/completions", "{\"messages\": ["), 400);
  expect_error(post("/v1/chat/completions", {{"messages", "not an array"}}), 400, "messages");
  expect_error(post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"temperature", "hot"}}),
               400, "temperature");
  expect_error(post("/v1/chat/completions", {{"model", "missing"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}),
               404, "model");
  expect_error(post("/v1/completions", {{"prompt", {1, 2, 99999999}}}), 400, "prompt");
  expect_error(call("GET", "/v1/chat/completions"), 405);
  expect_error(call("POST", "/v1/nothing", "{}"), 404);
  {  // 413 is decided from Content-Length, before the body is read
    TestClient c(port_);
    ASSERT_TRUE(c.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n{"));
    auto res = c.read_response();
    ASSERT_TRUE(res);
    expect_error({res->result_int(), json::parse(res->body(), nullptr, false)}, 413);
  }
  // Longer than the 1024-position context: 400 naming the numbers.
  std::string long_prompt;
  for (int i = 0; i < 1100; ++i) long_prompt += " time";
  const auto r = post("/v1/completions", {{"prompt", long_prompt}, {"max_tokens", 4}});
  expect_error(r, 400, "prompt");
  EXPECT_EQ(r.second["error"]["code"], "context_length_exceeded");
  EXPECT_NE(r.second["error"]["message"].get<std::string>().find("1024"), std::string::npos);
}

TEST_F(OpenAiApiTest, ClientLeavingCancelsItsGeneration) {
  {
    TestClient c(port_);
    const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 200}, {"stream", true}, {"ignore_eos", true}};
    ASSERT_TRUE(c.write(make_request("POST", "/v1/completions", body.dump())));
    ResponseParser p;
    ASSERT_TRUE(c.read_header(p));
    ASSERT_TRUE(c.read_some(p));
    c.close();
  }
  const auto& engine = api_->models().front()->engine();
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (engine.stats().running + engine.stats().waiting > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(engine.stats().running + engine.stats().waiting, 0);
}

const json kWeatherTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "Oslo"]},
                   "days": {"type": "integer", "minimum": 1, "maximum": 7}}, "required": ["city", "days"],
                   "additionalProperties": false}}},
  {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object",
    "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}}, "required": ["zone"],
    "additionalProperties": false}}}
])");

TEST_F(OpenAiApiTest, JsonSchemaOutputAlwaysValidates) {
  const json schema = json::parse(R"({"type": "object", "properties": {
      "name": {"type": "string", "maxLength": 8}, "age": {"type": "integer", "minimum": 0, "maximum": 120},
      "pet": {"enum": ["cat", "dog", null]}, "tags": {"type": "array", "items": {"type": "boolean"}, "maxItems": 3}},
      "required": ["name", "age", "pet", "tags"], "additionalProperties": false})");
  for (int seed = 1; seed <= 4; ++seed) {
    const auto r = post("/v1/chat/completions",
                        {{"messages", {{{"role", "user"}, {"content", "A person as JSON"}}}}, {"max_tokens", 120},
                         {"temperature", 1.0}, {"seed", seed},
                         {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "person"}, {"schema", schema}, {"strict", true}}}}}});
    ASSERT_EQ(r.first, 200) << r.second.dump();
    const json& choice = r.second["choices"][0];
    EXPECT_EQ(choice["finish_reason"], "stop") << choice.dump();
    const json out = json::parse(choice["message"]["content"].get<std::string>(), nullptr, false);
    ASSERT_TRUE(out.is_object()) << choice["message"]["content"];
    EXPECT_TRUE(out["name"].is_string() && out["name"].get<std::string>().size() <= 8 * 4) << out;
    EXPECT_TRUE(out["age"].is_number_integer() && out["age"].get<int>() >= 0 && out["age"].get<int>() <= 120) << out;
    EXPECT_TRUE(out["pet"].is_null() || out["pet"] == "cat" || out["pet"] == "dog") << out;
    EXPECT_TRUE(out["tags"].is_array() && out["tags"].size() <= 3) << out;
    EXPECT_EQ(out.size(), 4u) << out;
  }
  const auto any = post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "JSON please"}}}},
                                                  {"max_tokens", 60}, {"seed", 3},
                                                  {"response_format", {{"type", "json_object"}}}});
  ASSERT_EQ(any.first, 200) << any.second.dump();
  if (any.second["choices"][0]["finish_reason"] == "stop") {
    EXPECT_TRUE(json::parse(any.second["choices"][0]["message"]["content"].get<std::string>(), nullptr, false).is_object());
  }
  expect_error(post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "x"}}}},
                                             {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", {{"not", {{"type", "string"}}}}}}}}}}),
               400, "response_format.json_schema.schema");
}

TEST_F(OpenAiApiTest, RequiredToolChoiceYieldsOneValidCall) {
  for (int seed = 1; seed <= 3; ++seed) {
    const auto r = post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "Weather in Paris?"}}}},
                                                  {"tools", kWeatherTools}, {"tool_choice", "required"},
                                                  {"max_tokens", 100}, {"temperature", 1.0}, {"seed", seed}});
    ASSERT_EQ(r.first, 200) << r.second.dump();
    const json& choice = r.second["choices"][0];
    EXPECT_EQ(choice["finish_reason"], "tool_calls") << choice.dump();
    const json& msg = choice["message"];
    EXPECT_TRUE(msg["content"].is_null()) << msg.dump();
    ASSERT_EQ(msg["tool_calls"].size(), 1u) << msg.dump();
    const json& call = msg["tool_calls"][0];
    EXPECT_EQ(call["type"], "function");
    EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0u);
    const std::string name = call["function"]["name"];
    const json args = json::parse(call["function"]["arguments"].get<std::string>(), nullptr, false);
    if (name == "get_weather") {
      EXPECT_TRUE(args["city"] == "Paris" || args["city"] == "Oslo") << args;
      EXPECT_TRUE(args["days"].is_number_integer() && args["days"] >= 1 && args["days"] <= 7) << args;
    } else {
      EXPECT_EQ(name, "get_time");
      EXPECT_TRUE(args["zone"] == "UTC" || args["zone"] == "CET") << args;
    }
  }
}

TEST_F(OpenAiApiTest, NamedToolChoiceStreamsToolCallDeltas) {
  const auto events = stream("/v1/chat/completions",
                             {{"messages", {{{"role", "user"}, {"content", "Time?"}}}}, {"tools", kWeatherTools},
                              {"tool_choice", {{"type", "function"}, {"function", {{"name", "get_time"}}}}},
                              {"max_tokens", 150}, {"stream", true}, {"seed", 9}});
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string name, arguments, finish;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json& c = events[i]["choices"][0];
    if (c["delta"].contains("tool_calls")) {
      const json& call = c["delta"]["tool_calls"][0];
      EXPECT_EQ(call["index"], 0);
      if (call["function"].contains("name")) name += call["function"]["name"].get<std::string>();
      arguments += call["function"]["arguments"].get<std::string>();
    }
    if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
  }
  ASSERT_EQ(finish, "tool_calls");
  EXPECT_EQ(name, "get_time");
  const json args = json::parse(arguments, nullptr, false);
  ASSERT_TRUE(args.is_object()) << arguments;
  EXPECT_TRUE(args["zone"] == "UTC" || args["zone"] == "CET") << arguments;
}

TEST_F(OpenAiApiTest, ToolsAreRenderedIntoThePrompt) {
  const json messages = {{{"role", "user"}, {"content", "Weather in Paris?"}}};
  const auto plain = post("/v1/chat/completions", {{"messages", messages}, {"max_tokens", 1}});
  const auto tools = post("/v1/chat/completions", {{"messages", messages}, {"tools", kWeatherTools}, {"max_tokens", 1}});
  const auto none = post("/v1/chat/completions", {{"messages", messages}, {"tools", kWeatherTools}, {"tool_choice", "none"},
                                                   {"max_tokens", 1}});
  ASSERT_EQ(tools.first, 200) << tools.second.dump();
  EXPECT_GT(tools.second["usage"]["prompt_tokens"].get<int>(), plain.second["usage"]["prompt_tokens"].get<int>() + 20);
  EXPECT_EQ(none.second["usage"]["prompt_tokens"], plain.second["usage"]["prompt_tokens"]);
}

}  // namespace
}  // namespace inferd::server::testing

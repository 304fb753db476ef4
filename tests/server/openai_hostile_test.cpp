// Property test: thousands of malformed and hostile requests (broken JSON, wrong types, huge
// numbers, invalid UTF-8, deep nesting, oversized arrays, mutated valid requests) against the
// running API. Every answer must be a success or a well-formed OpenAI error envelope with a 4xx
// or 503 status (never a 500, never a dropped connection), and a normal request must still be
// served afterwards.
#include <random>

#include <nlohmann/json.hpp>

#include "model/synth_model.h"
#include "server/api/api_context.h"
#include "server/http_test_support.h"
#include "server/openai_server.h"
#include "testing/test_paths.h"

namespace inferd::server::testing {
namespace {

using nlohmann::json;

class OpenAiHostileTest : public HttpServerFixture {
 protected:
  void SetUp() override {
    model::SynthOptions o;
    o.dim = 64;
    o.layers = 1;
    o.heads = 2;
    o.kv_heads = 1;
    o.ffn = 128;
    o.vocab = 300;
    o.context = 64;
    const std::string path = (inferd::testing::temp_dir() / "hostile-model.gguf").string();
    ASSERT_TRUE(model::write_synth_model(o, path).ok());
    ServedModelOptions m;
    m.path = path;
    m.id = "tiny";
    m.engine.ctx_per_slot = 64;
    m.engine.num_threads = 1;
    auto loaded = ServedModel::load(m);
    ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
    api_ = std::make_shared<ApiContext>();
    std::vector<std::unique_ptr<ServedModel>> models;
    models.push_back(std::move(loaded).value());
    api_->publish(std::move(models));
    auto router = make_openai_router(api_, "/api/v1");
    ASSERT_TRUE(router.ok());
    HttpServerOptions http = test_options();
    http.max_body_bytes = 4 << 20;
    start_server(std::move(router).value(), http);
  }
  void TearDown() override {
    HttpServerFixture::TearDown();
    api_.reset();
  }
  std::shared_ptr<ApiContext> api_;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  json scalar() {
    switch (pick(12)) {
      case 0: return nullptr;
      case 1: return pick(2) == 0;
      case 2: return -1;
      case 3: return 1e308;
      case 4: return -1e308;
      case 5: return std::numeric_limits<int64_t>::min();
      case 6: return std::numeric_limits<uint64_t>::max();
      case 7: return 0.5;
      case 8: return pick(100000);
      case 9: return std::string(pick(3) == 0 ? 100000 : 3, 'a');
      case 10: return "";
      default: return "stop";
    }
  }

  json value(int depth = 0) {
    if (depth > 3 || pick(3) > 0) return scalar();
    if (pick(2) == 0) {
      json a = json::array();
      for (int i = pick(4); i > 0; --i) a.push_back(value(depth + 1));
      return a;
    }
    json o = json::object();
    for (int i = pick(4); i > 0; --i) o[key()] = value(depth + 1);
    return o;
  }

  std::string key() {
    static const char* keys[] = {"model", "messages", "prompt", "input", "max_tokens", "max_completion_tokens",
                                 "temperature", "top_p", "top_k", "min_p", "n", "stop", "seed",
                                 "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias",
                                 "logprobs", "top_logprobs", "echo", "stream", "stream_options", "response_format",
                                 "tools", "tool_choice", "parallel_tool_calls", "user", "role", "content", "type",
                                 "text", "name", "tool_calls", "function", "arguments", "encoding_format",
                                 "dimensions", "tokens", "include_usage", "ignore_eos"};
    return keys[pick(sizeof(keys) / sizeof(keys[0]))];
  }

  json valid_body(std::string_view path) {
    if (path == "/v1/chat/completions")
      return {{"messages", {{{"role", "system"}, {"content", "s"}}, {{"role", "user"}, {"content", "hi"}}}},
              {"max_tokens", 3}};
    if (path == "/v1/completions") return {{"prompt", "hello"}, {"max_tokens", 3}};
    if (path == "/v1/embeddings") return {{"input", "hello"}};
    if (path == "/tokenize") return {{"content", "hello"}};
    return {{"tokens", {1, 2, 3}}};
  }

  // A mutated version of a valid body (still JSON).
  json mutate(json body) {
    for (int i = 1 + pick(3); i > 0; --i) {
      switch (pick(6)) {
        case 0: body[key()] = value(); break;
        case 1: body["messages"] = json::array({{{"role", value()}, {"content", value()}}}); break;
        case 2: body["messages"] = json::array({{{"role", "user"}, {"content", json::array({{{"type", value()}, {"text", value()}}})}}});
          break;
        case 3: body["prompt"] = json::array({pick(1000), -5, 1u << 31}); break;
        case 4: {
          json big = json::array();
          for (int k = 0; k < 20000; ++k) big.push_back(pick(400));
          body[pick(2) ? "prompt" : "input"] = big;
          break;
        }
        default: body.erase(key()); break;
      }
    }
    return body;
  }

  // Raw bytes: broken JSON, invalid UTF-8, deep nesting, or a mutated body's text.
  std::string body_text(std::string_view path) {
    switch (pick(7)) {
      case 0: {
        std::string s = mutate(valid_body(path)).dump();
        return s.substr(0, pick(static_cast<int>(s.size()) + 1));
      }
      case 1: {
        std::string s = valid_body(path).dump();
        for (int i = 0; i < 4; ++i) s[pick(static_cast<int>(s.size()))] = static_cast<char>(pick(256));
        return s;
      }
      case 2: return R"({"prompt":")" + std::string("\xff\xfe\xc0\x80\xed\xa0\x80") + R"(","messages":[{"role":"user","content":"\ud800"}],"content":"\udfff","input":"\xc3"})";
      case 3: {
        const int depth = pick(2) ? 100 : 100000;
        return R"({"messages":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
      }
      case 4: return std::string(pick(64), static_cast<char>(pick(256)));
      default: return mutate(valid_body(path)).dump();
    }
  }

 private:
  std::mt19937_64 rng_;
};

bool is_error_envelope(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  return j.is_object() && j.contains("error") && j["error"].is_object() && j["error"]["message"].is_string() &&
         j["error"]["type"].is_string() && j["error"].contains("param") && j["error"].contains("code");
}

TEST_F(OpenAiHostileTest, EveryHostileRequestGetsAValidAnswerAndTheServerKeepsServing) {
  static const char* paths[] = {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/tokenize",
                                "/detokenize"};
  Generator g(20261129);
  int ok = 0, errors = 0;
  for (int i = 0; i < 2500; ++i) {
    const char* path = paths[g.pick(5)];
    const std::string body = g.body_text(path);
    TestClient c(port_);
    ASSERT_TRUE(c.connected());
    auto res = c.request("POST", path, body, {{"Content-Type", "application/json"}}, 20000ms);
    ASSERT_TRUE(res) << "no answer to POST " << path << " " << body.substr(0, 300);
    const int status = res->result_int();
    if (status == 200) {
      ++ok;
      continue;
    }
    ++errors;
    EXPECT_TRUE((status >= 400 && status < 500) || status == 503) << status << " for " << path << " " << body.substr(0, 300)
                                                                  << " -> " << res->body();
    EXPECT_TRUE(is_error_envelope(res->body())) << path << " " << body.substr(0, 300) << " -> " << res->body();
    if (HasFailure()) break;
  }
  EXPECT_GT(ok, 100);
  EXPECT_GT(errors, 1000);
  TestClient c(port_);
  auto res = c.request("POST", "/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":2})",
                       {}, 20000ms);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200) << res->body();
}

}  // namespace
}  // namespace inferd::server::testing

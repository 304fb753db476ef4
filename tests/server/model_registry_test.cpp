// The model registry through the API on 127.0.0.1, with several copies of a small fixture model:
// loading on first request under a memory budget that fits two of three, LRU eviction that
// spares pinned models and models in use, requests that wait for a load, fallback chains,
// services (403 for a model a service may not use, its default model otherwise), the load,
// unload and memory endpoints and the load progress stream.
#include <atomic>
#include <map>
#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/api/api_context.h"
#include "server/http_test_support.h"
#include "server/openai_server.h"
#include "server/registry/model_footprint.h"
#include "testing/poisoned_model.h"
#include "testing/test_paths.h"

namespace inferd::server::testing {
namespace {

using nlohmann::json;

constexpr const char* kModel = "fixtures/fixture-llama-q4_0.gguf";

ModelSpec spec(const std::string& id, const std::filesystem::path& path) {
  ModelSpec s;
  s.load.id = id;
  s.load.path = path.string();
  s.load.engine.ctx_per_slot = 256;
  s.load.engine.max_slots = 2;
  s.load.engine.num_threads = 1;
  return s;
}

class ModelRegistryApiTest : public HttpServerFixture {
 protected:
  void SetUp() override {
    path_ = inferd::testing::shared_path(kModel);
    if (path_.empty() || !std::filesystem::exists(path_))
      GTEST_SKIP() << "shared test data missing: " << kModel;
    auto fp = estimate_footprint(spec("x", path_).load);
    ASSERT_TRUE(fp.ok()) << fp.status().to_string();
    footprint_bytes_ = fp->total_bytes();
  }
  void TearDown() override {
    HttpServerFixture::TearDown();
    api_.reset();
  }

  // Three copies a, b, c of the fixture under a budget that holds two; `edit` adjusts the config.
  void start(const std::function<void(RegistryConfig&)>& edit = nullptr) {
    RegistryConfig c;
    c.options.memory_budget_bytes = footprint_bytes_ * 5 / 2;
    for (const char* id : {"a", "b", "c"}) c.models.push_back(spec(id, path_));
    if (edit) edit(c);
    api_ = std::make_shared<ApiContext>();
    const Status st = api_->configure(std::move(c));
    ASSERT_TRUE(st.ok()) << st.to_string();
    auto router = make_openai_router(api_, "/api/v1");
    ASSERT_TRUE(router.ok());
    HttpServerOptions o = test_options();
    // Tests act as a service by naming it in X-Test-Service.
    o.authenticate = [](const Request& r) -> std::variant<Caller, ApiError> {
      return Caller{std::string(r.header("X-Test-Service").value_or("")), ""};
    };
    start_server(std::move(router).value(), o);
  }

  // The single-model mode: one model loaded beforehand and published.
  void start_published() {
    ServedModelOptions o = spec("solo", path_).load;
    o.aliases = {"solo-alias"};
    auto m = ServedModel::load(o);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    api_ = std::make_shared<ApiContext>();
    std::vector<std::unique_ptr<ServedModel>> models;
    models.push_back(std::move(m).value());
    api_->publish(std::move(models));
    auto router = make_openai_router(api_, "/api/v1");
    ASSERT_TRUE(router.ok());
    start_server(std::move(router).value());
  }

  std::pair<int, json> call(std::string_view method, std::string_view target,
                            const std::string& body = "", const std::string& service = "") {
    TestClient c(port_);
    HeaderList headers = {{"Content-Type", "application/json"}};
    if (!service.empty()) headers.emplace_back("X-Test-Service", service);
    auto res = c.request(method, target, body, headers, 60000ms);
    if (!res) return {0, nullptr};
    return {res->result_int(), json::parse(res->body(), nullptr, false)};
  }
  std::pair<int, json> complete(const std::string& model, const std::string& service = "") {
    json body = {{"prompt", "Hello"}, {"max_tokens", 2}, {"temperature", 0}};
    if (!model.empty()) body["model"] = model;
    return call("POST", "/v1/completions", body.dump(), service);
  }
  // complete(), then waits until the request's lease is given back: a lease ends (and marks its
  // model used) after the response is sent, so the next request could otherwise see an older
  // last use than the client did.
  std::pair<int, json> complete_settled(const std::string& model) {
    auto answer = complete(model);
    for (int i = 0; i < 500; ++i) {
      const auto [status, list] = call("GET", "/v1/models");
      if (status == 200 && std::none_of(list["data"].begin(), list["data"].end(),
                                        [](const json& m) { return m.value("running", 0) > 0; }))
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return answer;
  }
  std::map<std::string, std::string> states() {
    std::map<std::string, std::string> out;
    const auto [status, list] = call("GET", "/v1/models");
    EXPECT_EQ(status, 200) << list.dump();
    for (const json& m : list["data"]) out[m["id"]] = m["state"];
    return out;
  }

  std::filesystem::path path_;
  uint64_t footprint_bytes_ = 0;
  std::shared_ptr<ApiContext> api_;
};

TEST_F(ModelRegistryApiTest, LoadsOnFirstRequestAndEvictsTheLeastRecentlyUsed) {
  start();
  using S = std::map<std::string, std::string>;
  EXPECT_EQ(states(), (S{{"a", "available"}, {"b", "available"}, {"c", "available"}}));
  for (const char* id : {"a", "b"}) {
    auto [status, j] = complete_settled(id);
    ASSERT_EQ(status, 200) << j.dump();
    EXPECT_EQ(j["model"], id);
  }
  EXPECT_EQ(states(), (S{{"a", "loaded"}, {"b", "loaded"}, {"c", "available"}}));
  ASSERT_EQ(complete_settled("a").first, 200);  // b is now the least recently used
  ASSERT_EQ(complete_settled("c").first, 200);
  EXPECT_EQ(states(), (S{{"a", "loaded"}, {"b", "available"}, {"c", "loaded"}}));
  ASSERT_EQ(complete_settled("b").first, 200);  // a is now the least recently used
  EXPECT_EQ(states(), (S{{"a", "available"}, {"b", "loaded"}, {"c", "loaded"}}));

  auto [status, memory] = call("GET", "/v1/memory");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(memory["budget_bytes"], footprint_bytes_ * 5 / 2);
  EXPECT_EQ(memory["used_bytes"], 2 * footprint_bytes_);
  ASSERT_EQ(memory["models"].size(), 2u);
  for (const json& m : memory["models"]) EXPECT_EQ(m["memory_bytes"], footprint_bytes_);

  auto [s2, model] = call("GET", "/v1/models/b");
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(model["object"], "model");
  EXPECT_EQ(model["memory_bytes"], footprint_bytes_);
  EXPECT_TRUE(model["last_used"].is_number_integer());
  EXPECT_EQ(model["meta"]["n_ctx"], 256);
}

TEST_F(ModelRegistryApiTest, PinnedModelsAreNeverEvicted) {
  start([](RegistryConfig& c) { c.models[0].pinned = true; });
  for (const char* id : {"a", "b", "c", "b", "c", "b"}) ASSERT_EQ(complete(id).first, 200) << id;
  // a was used least recently each time but is pinned: b and c took turns.
  EXPECT_EQ(states()["a"], "loaded");
}

// Two pinned models leave no room for a third: a clear refusal, nothing evicted.
TEST_F(ModelRegistryApiTest, ALoadThatCannotFitIsRefused) {
  start([](RegistryConfig& c) {
    c.models[0].pinned = true;
    c.models[1].pinned = true;
  });
  ASSERT_EQ(complete("a").first, 200);
  ASSERT_EQ(complete("b").first, 200);
  auto [status, j] = complete("c");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(j["error"]["code"], "insufficient_memory");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("a (pinned), b (pinned)"),
            std::string::npos)
      << j.dump();
  EXPECT_EQ(states(), (std::map<std::string, std::string>{
                          {"a", "loaded"}, {"b", "loaded"}, {"c", "failed"}}));
}

TEST_F(ModelRegistryApiTest, ConcurrentRequestsDuringALoadAllSucceed) {
  start();
  constexpr int kClients = 6;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&] {
      if (complete("c").first == 200) ++ok;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients);
  EXPECT_EQ(states()["c"], "loaded");
}

TEST_F(ModelRegistryApiTest, AModelThatFailsToLoadFallsBackAlongItsChain) {
  start([](RegistryConfig& c) {
    ModelSpec broken = spec("broken", "/nonexistent/broken.gguf");
    broken.fallbacks = {"also-broken", "b"};
    ModelSpec also = spec("also-broken", "/nonexistent/also.gguf");
    c.models.push_back(broken);
    c.models.push_back(also);
  });
  auto [status, j] = complete("broken");
  ASSERT_EQ(status, 200) << j.dump();
  EXPECT_EQ(j["model"], "b");  // the model that answered
  TestClient m(port_);
  auto metrics = m.request("GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body().find(
                "inferd_model_fallbacks_total{from=\"broken\",to=\"b\",reason=\"load_failed\"} 1"),
            std::string::npos);
  EXPECT_EQ(states()["broken"], "failed");
  // Without a working fallback the error of the model asked for is returned.
  auto [s2, e] = complete("also-broken");
  EXPECT_EQ(s2, 500);
  EXPECT_EQ(e["error"]["code"], "model_load_failed");
}

// A model whose generation fails (NaN weights: the engine refuses non-finite logits) passes the
// request to its fallback, streamed or not, as long as nothing was sent to the client yet;
// without a fallback the client gets a plain 500 (a stream that never started is no stream).
TEST_F(ModelRegistryApiTest, AModelWhoseGenerationFailsFallsBack) {
  INFERD_REQUIRE_SHARED(f16, "fixtures/fixture-llama-f16.gguf");
  const auto nan_path = inferd::testing::temp_dir() / "nan.gguf";
  const Status st = inferd::testing::write_poisoned_copy(f16, nan_path, "output_norm.weight");
  ASSERT_TRUE(st.ok()) << st.to_string();
  start([&](RegistryConfig& c) {
    c.options.memory_budget_bytes = 0;
    ModelSpec nan = spec("nan", nan_path);
    nan.fallbacks = {"b"};
    c.models.push_back(nan);
    c.models.push_back(spec("nan-alone", nan_path));
  });
  auto [status, j] = complete("nan");
  ASSERT_EQ(status, 200) << j.dump();
  EXPECT_EQ(j["model"], "b");
  EXPECT_FALSE(j["choices"][0]["text"].get<std::string>().empty());

  TestClient c(port_);
  const json chat = {{"model", "nan"},
                     {"messages", {{{"role", "user"}, {"content", "Hello"}}}},
                     {"max_tokens", 3},
                     {"temperature", 0},
                     {"stream", true}};
  auto res = c.request("POST", "/v1/chat/completions", chat.dump(),
                       {{"Content-Type", "application/json"}}, 60000ms);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200) << res->body();
  EXPECT_NE(res->body().find("\"model\":\"b\""), std::string::npos) << res->body();
  EXPECT_EQ(res->body().find("\"model\":\"nan\""), std::string::npos) << res->body();
  EXPECT_NE(res->body().find("data: [DONE]"), std::string::npos);

  TestClient m(port_);
  auto metrics = m.request("GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body().find("inferd_model_fallbacks_total{from=\"nan\",to=\"b\","
                                 "reason=\"generation_failed\"} 2"),
            std::string::npos);

  auto [s2, e] = complete("nan-alone");
  EXPECT_EQ(s2, 500);
  EXPECT_EQ(e["error"]["code"], "generation_failed");
  EXPECT_NE(e["error"]["message"].get<std::string>().find("non-finite"), std::string::npos);
  TestClient c2(port_);
  json alone = chat;
  alone["model"] = "nan-alone";
  res = c2.request("POST", "/v1/chat/completions", alone.dump(),
                   {{"Content-Type", "application/json"}}, 60000ms);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 500) << res->body();
}

// A model whose queue is full passes requests to its fallback.
TEST_F(ModelRegistryApiTest, AnOverloadedModelFallsBack) {
  start([](RegistryConfig& c) {
    c.models[0].load.engine.max_slots = 1;
    c.models[0].load.engine.max_waiting = 1;
    c.models[0].fallbacks = {"b"};
  });
  ASSERT_EQ(complete("a").first, 200);
  const json long_request = {
      {"model", "a"}, {"prompt", "Hello"}, {"max_tokens", 240}, {"ignore_eos", true}};
  const ModelLease a = api_->registry()->lease_if_loaded("a");
  ASSERT_TRUE(a);
  // One request running, then one waiting: the queue is full.
  for (int i = 0; i < 2; ++i) {
    spawn([this, long_request] { (void)call("POST", "/v1/completions", long_request.dump()); });
    for (int t = 0; t < 1000 && a->engine().stats().running + a->engine().stats().waiting <= i; ++t)
      std::this_thread::sleep_for(1ms);
    if (i == 0) {
      for (int t = 0; t < 1000 && a->engine().stats().running == 0; ++t)
        std::this_thread::sleep_for(1ms);
    }
  }
  ASSERT_TRUE(a->overloaded());
  auto [status, j] = complete("a");
  ASSERT_EQ(status, 200) << j.dump();
  EXPECT_EQ(j["model"], "b");
  TestClient m(port_);
  auto metrics = m.request("GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body().find(
                "inferd_model_fallbacks_total{from=\"a\",to=\"b\",reason=\"overloaded\"} 1"),
            std::string::npos);
}

TEST_F(ModelRegistryApiTest, ServicesChooseAndRestrictModels) {
  start([](RegistryConfig& c) {
    c.models[0].load.aliases = {"alpha"};
    ASSERT_TRUE(c.services.add({"vista", "b", {"alpha", "b"}, 0}).ok());
    ASSERT_TRUE(c.services.add({"fork", "", {}, 0}).ok());
    c.default_model = "c";
  });
  EXPECT_EQ(complete("", "vista").second["model"], "b");  // the service's default
  EXPECT_EQ(complete("alpha", "vista").second["model"], "alpha");
  EXPECT_EQ(complete("", "fork").second["model"], "c");  // the server's default
  EXPECT_EQ(complete("", "").second["model"], "c");
  auto [status, j] = complete("c", "vista");
  EXPECT_EQ(status, 403);
  EXPECT_EQ(j["error"]["code"], "model_not_allowed");
  auto [s404, nf] = complete("nope", "vista");
  EXPECT_EQ(s404, 404);
  EXPECT_EQ(nf["error"]["code"], "model_not_found");
  // /v1/models lists what the service may use.
  auto [s, list] = call("GET", "/v1/models", "", "vista");
  ASSERT_EQ(s, 200);
  ASSERT_EQ(list["data"].size(), 2u);
  EXPECT_EQ(list["data"][0]["aliases"], json::array({"alpha"}));
  EXPECT_EQ(call("GET", "/v1/models/c", "", "vista").first, 403);
  // Generation metrics are labelled with the calling service.
  TestClient m(port_);
  auto metrics = m.request("GET", "/metrics");
  ASSERT_TRUE(metrics);
  for (const char* series : {"inferd_generation_tokens_total{service=\"vista\",model=\"b\"} 2",
                             "inferd_generation_tokens_total{service=\"fork\",model=\"c\"} 2",
                             "inferd_generation_tokens_total{service=\"default\",model=\"c\"} 2"})
    EXPECT_NE(metrics->body().find(series), std::string::npos) << series << "\n" << metrics->body();
}

TEST_F(ModelRegistryApiTest, EmbeddingModelsAnswerOnlyEmbeddings) {
  start([](RegistryConfig& c) { c.models[2].kind = ModelKind::kEmbedding; });
  auto [status, j] = complete("c");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(j["error"]["code"], "model_not_supported");
  EXPECT_EQ(j["error"]["param"], "model");
  const json chat = {{"model", "c"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 1}};
  EXPECT_EQ(call("POST", "/v1/chat/completions", chat.dump()).first, 400);
  const auto [embed_status, embedding] = call("POST", "/v1/embeddings", json({{"model", "c"}, {"input", "hi"}}).dump());
  EXPECT_EQ(embed_status, 200) << embedding.dump();
  EXPECT_EQ(complete("a").first, 200);  // chat models generate
}

TEST_F(ModelRegistryApiTest, LoadAndUnloadEndpoints) {
  start();
  auto [s1, loaded] = call("POST", "/v1/models/a/load");
  ASSERT_EQ(s1, 200) << loaded.dump();
  EXPECT_EQ(loaded["state"], "loaded");
  EXPECT_EQ(loaded["running"], 0);
  auto [s2, unloaded] = call("POST", "/api/v1/models/a/unload");
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(unloaded["state"], "available");
  auto [s3, again] = call("POST", "/v1/models/a/unload");
  EXPECT_EQ(s3, 400);
  EXPECT_EQ(again["error"]["code"], "model_not_loaded");
  EXPECT_EQ(call("POST", "/v1/models/zzz/load").first, 404);
  EXPECT_EQ(call("POST", "/v1/models/a/load", "{\"stream\": 3}").first, 400);

  // Progress as server-sent events: requested, estimated, (evicting), loading, loaded, done.
  ASSERT_EQ(call("POST", "/v1/models/b/load").first, 200);
  TestClient c(port_);
  auto res = c.request("POST", "/v1/models/c/load", R"({"stream": true})",
                       {{"Content-Type", "application/json"}}, 60000ms);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200);
  std::vector<std::string> stages;
  const std::string& body = res->body();
  for (size_t pos = 0; (pos = body.find("data: ", pos)) != std::string::npos;) {
    const size_t end = body.find("\n\n", pos);
    const std::string data = body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") {
      stages.push_back(data);
      continue;
    }
    const json e = json::parse(data);
    stages.push_back(e["stage"].get<std::string>() +
                     (e["stage"] == "evicting" ? ":" + e["model"].get<std::string>() : ""));
  }
  EXPECT_EQ(stages, (std::vector<std::string>{"requested", "estimated", "loading", "loaded", "done",
                                              "[DONE]"}));
  // The budget holds two: loading a now evicts the least recently used (b).
  TestClient c2(port_);
  res = c2.request("POST", "/v1/models/a/load", R"({"stream": true})",
                   {{"Content-Type", "application/json"}}, 60000ms);
  ASSERT_TRUE(res);
  EXPECT_NE(res->body().find("\"stage\":\"evicting\",\"model\":\"b\""), std::string::npos)
      << res->body();
}

// A model in use is never evicted, and an unload while a request runs lets the request finish.
TEST_F(ModelRegistryApiTest, ModelsInUseAreNotFreed) {
  start();
  ASSERT_EQ(complete("a").first, 200);
  ModelLease lease = api_->registry()->lease_if_loaded("a");  // as a running request holds it
  ASSERT_TRUE(lease);
  ASSERT_EQ(complete("b").first, 200);
  ASSERT_EQ(complete("c").first, 200);  // a is least recently used but in use: b goes
  EXPECT_EQ(states()["a"], "loaded");
  EXPECT_EQ(states()["b"], "available");
  ASSERT_EQ(call("POST", "/v1/models/a/unload").first, 200);
  EXPECT_EQ(states()["a"], "available");
  // The retired model still counts and still works for its holder.
  EXPECT_EQ(api_->registry()->used_bytes(), 2 * footprint_bytes_);
  EXPECT_GT(lease->model().tokenize("hello", true, false).size(), 0u);
  lease.reset();
  for (int i = 0; i < 100 && api_->registry()->used_bytes() != footprint_bytes_; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(api_->registry()->used_bytes(), footprint_bytes_);
}

// A load that fits once a model in use is idle waits for it instead of failing.
TEST_F(ModelRegistryApiTest, ALoadWaitsForAModelInUseToBecomeIdle) {
  start();
  ASSERT_EQ(complete("a").first, 200);
  ASSERT_EQ(complete("b").first, 200);
  ModelLease a = api_->registry()->lease_if_loaded("a");
  ModelLease b = api_->registry()->lease_if_loaded("b");
  ASSERT_TRUE(a && b);
  std::atomic<int> status{0};
  spawn([this, &status] { status = complete("c").first; });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(status.load(), 0);  // still waiting: both models are in use
  EXPECT_EQ(states()["c"], "loading");
  a.reset();
  for (int i = 0; i < 500 && status.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(status.load(), 200);
  EXPECT_EQ(states(), (std::map<std::string, std::string>{{"a", "available"}, {"b", "loaded"}, {"c", "loaded"}}));
}

// A published model is listed with its names, is pinned and cannot be unloaded.
TEST_F(ModelRegistryApiTest, PublishedModelsStayLoaded) {
  start_published();
  auto [status, list] = call("GET", "/v1/models");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["id"], "solo");
  EXPECT_EQ(list["data"][0]["aliases"], json::array({"solo-alias"}));
  EXPECT_EQ(list["data"][0]["state"], "loaded");
  EXPECT_EQ(list["data"][0]["pinned"], true);
  EXPECT_EQ(complete("solo-alias").second["model"], "solo-alias");
  EXPECT_EQ(complete("").second["model"], "solo");
  auto [s2, refused] = call("POST", "/v1/models/solo/unload");
  EXPECT_EQ(s2, 400);
  EXPECT_EQ(refused["error"]["code"], "model_not_unloadable");
  EXPECT_EQ(states()["solo"], "loaded");
}

TEST_F(ModelRegistryApiTest, KeepAliveUnloadsIdleModels) {
  start([](RegistryConfig& c) {
    c.models[0].keep_alive = std::chrono::seconds(1);
    c.options.maintenance_interval = std::chrono::milliseconds(50);
  });
  ASSERT_EQ(complete("a").first, 200);
  ASSERT_EQ(complete("b").first, 200);
  EXPECT_EQ(states()["a"], "loaded");
  for (int i = 0; i < 100 && states()["a"] != "available"; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(states()["a"], "available");
  EXPECT_EQ(states()["b"], "loaded");  // no keep-alive: stays
}

}  // namespace
}  // namespace inferd::server::testing

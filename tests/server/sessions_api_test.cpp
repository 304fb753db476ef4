// The session API over real connections on 127.0.0.1, on every store (memory, SQLite, a private
// redis-server, a private 3-node Redis Cluster), with the llama F16 fixture model: CRUD, isolation
// between services, chat turns that store their history (streamed or not) and reuse the KV cache,
// failed and cancelled turns that store nothing, If-Match between concurrent writers, branching,
// export/import, templates, statistics, usage, expiry.
#include <thread>

#include <nlohmann/json.hpp>

#include "server/api/api_context.h"
#include "server/http_test_support.h"
#include "server/openai_server.h"
#include "server/sessions/session_service.h"
#include "testing/redis_cluster.h"
#include "testing/redis_server.h"
#include "testing/test_paths.h"

namespace inferd::server::testing {
namespace {

using nlohmann::json;

constexpr const char* kModel = "fixtures/fixture-llama-f16.gguf";

struct Answer {
  int status = 0;
  json body;
  std::string etag;
};

class SessionsApiTest : public HttpServerFixture,
                        public ::testing::WithParamInterface<std::string> {
 protected:
  static void SetUpTestSuite() {
    const auto path = inferd::testing::shared_path(kModel);
    if (path.empty() || !std::filesystem::exists(path)) return;
    ServedModelOptions o;
    o.path = path.string();
    o.id = "llama";
    o.engine.ctx_per_slot = 1024;
    o.engine.num_threads = 2;
    auto m = ServedModel::load(o);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    api_ = std::make_shared<ApiContext>();
    std::vector<std::unique_ptr<ServedModel>> models;
    models.push_back(std::move(m).value());
    api_->publish(std::move(models));
    redis_ = std::make_unique<inferd::testing::RedisServer>();
    cluster_ = std::make_unique<inferd::testing::RedisCluster>();
  }
  static void TearDownTestSuite() {
    api_.reset();
    redis_.reset();
    cluster_.reset();
  }

  void SetUp() override {
    INFERD_REQUIRE_SHARED(path, kModel);
    std::string url = GetParam();
    if (url == "redis") {
      INFERD_REQUIRE_REDIS(*redis_);
      url = redis_->url(++redis_db_ % 16);  // a fresh database per test
      ASSERT_TRUE(flush(url));
    } else if (url == "redis_cluster") {
      INFERD_REQUIRE_REDIS_CLUSTER(*cluster_);
      url = cluster_->url();
      ASSERT_TRUE(flush(url));
    } else if (url == "sqlite") {
      url = "sqlite:" + (inferd::testing::temp_dir() / "sessions.db").string();
    }
    url_ = url;
    sessions::SessionOptions so;
    so.store_url = url;
    so.prices["llama"] = {2.0, 4.0, 1.0};
    auto s = sessions::SessionService::open(so);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    api_->sessions = *s;
    start_with(api_);
  }
  void TearDown() override {
    HttpServerFixture::TearDown();
    if (api_) api_->sessions.reset();
  }

  void start_with(std::shared_ptr<ApiContext> api) {
    auto router = make_openai_router(api, "/api/v1");
    ASSERT_TRUE(router.ok()) << router.status().to_string();
    HttpServerOptions o = test_options();
    // The test's authenticator: X-Test-Service names the caller's service.
    o.authenticate = [](const Request& r) -> std::variant<Caller, ApiError> {
      return Caller{std::string(r.header("X-Test-Service").value_or("")), "test-key"};
    };
    start_server(std::move(router).value(), o);
  }

  static bool flush(const std::string& url) {
    auto store = sessions::open_kv_store(url);
    if (!store.ok()) return false;
    auto keys = (*store)->keys("");
    if (!keys.ok()) return false;
    // One key per commit: on a cluster a commit stays within one slot.
    for (const auto& k : *keys)
      if (!(*store)->commit({}, {sessions::KvWrite::erase(k)}).ok()) return false;
    return true;
  }

  Answer call(std::string_view method, std::string_view target, const json& body = nullptr,
              const std::string& service = "alpha", HeaderList extra = {}) {
    TestClient c(port_);
    extra.push_back({"Content-Type", "application/json"});
    extra.push_back({"X-Test-Service", service});
    auto res = c.request(method, target, body.is_null() ? "" : body.dump(), extra, 60000ms);
    if (!res) return {};
    return {static_cast<int>(res->result_int()), json::parse(res->body(), nullptr, false),
            field(*res, "ETag")};
  }

  std::string create(const json& body = json::object(), const std::string& service = "alpha") {
    const Answer a = call("POST", "/v1/sessions", body, service);
    EXPECT_EQ(a.status, 201) << a.body.dump();
    return a.body.value("session_id", "");
  }

  Answer turn(const std::string& id, const std::string& text, json extra = json::object(),
              const std::string& service = "alpha", HeaderList headers = {}) {
    json body = {{"messages", {{{"role", "user"}, {"content", text}}}},
                 {"max_tokens", 6},
                 {"temperature", 0}};
    for (auto& [k, v] : extra.items()) body[k] = v;
    if (!id.empty() && !body.contains("session_id") && headers.empty()) body["session_id"] = id;
    return call("POST", "/v1/chat/completions", body, service, std::move(headers));
  }

  json messages(const std::string& id, const std::string& service = "alpha") {
    return call("GET", "/v1/sessions/" + id + "/messages", nullptr, service).body;
  }

  std::string url_;  // the test's store
  static inline std::shared_ptr<ApiContext> api_;
  static inline std::unique_ptr<inferd::testing::RedisServer> redis_;
  static inline std::unique_ptr<inferd::testing::RedisCluster> cluster_;
  static inline int redis_db_ = 0;
};

TEST_P(SessionsApiTest, CreateGetListUpdateDelete) {
  const Answer created =
      call("POST", "/v1/sessions",
           {{"user_id", "u1"}, {"metadata", {{"app", "vet"}, {"k", 1}}}, {"ttl_seconds", 600}});
  ASSERT_EQ(created.status, 201) << created.body.dump();
  const json& r = created.body;
  const std::string id = r["session_id"];
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(created.etag, "\"1\"");
  EXPECT_EQ(r["object"], "session");
  EXPECT_EQ(r["sandbox_id"], "alpha");
  EXPECT_EQ(r["status"], "active");
  EXPECT_EQ(r["custom_metadata"]["app"], "vet");
  EXPECT_EQ(r["created_at"].get<std::string>().size(), 32u)
      << r["created_at"];  // 2026-...T..:..:...ffffff+00:00
  EXPECT_TRUE(r["expires_at"].get<std::string>().ends_with("+00:00"));

  std::this_thread::sleep_for(5ms);  // creation times order the list (millisecond resolution)
  EXPECT_EQ(call("POST", "/v1/sessions", {{"session_id", "named-1"}, {"user_id", "u2"}}).status,
            201);
  EXPECT_EQ(call("POST", "/v1/sessions", {{"session_id", "named-1"}}).status, 409);
  EXPECT_EQ(call("POST", "/v1/sessions", {{"session_id", "bad/id"}}).status, 400);
  EXPECT_EQ(call("POST", "/v1/sessions", {{"ttl_seconds", 0}}).status, 400);
  EXPECT_EQ(call("POST", "/v1/sessions", {{"ttl_seconds", 365LL * 24 * 3600}}).status, 400);
  EXPECT_EQ(call("POST", "/v1/sessions", {{"metadata", "x"}}).body["error"]["param"], "metadata");

  const Answer got = call("GET", "/api/v1/sessions/" + id);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body["user_id"], "u1");
  const Answer all = call("GET", "/v1/sessions?limit=1");
  EXPECT_EQ(all.body["total"], 2);
  EXPECT_EQ(all.body["data"].size(), 1u);
  EXPECT_TRUE(all.body["has_more"].get<bool>());
  EXPECT_EQ(all.body["data"][0]["session_id"], "named-1");  // newest first
  EXPECT_EQ(call("GET", "/v1/sessions?offset=1").body["data"][0]["session_id"], id);
  const Answer u1 = call("GET", "/v1/sessions?user_id=u1");
  ASSERT_EQ(u1.body["data"].size(), 1u);
  EXPECT_EQ(u1.body["data"][0]["session_id"], id);
  EXPECT_EQ(call("GET", "/v1/sessions?limit=0").status, 400);

  const Answer patched =
      call("PATCH", "/v1/sessions/" + id, {{"metadata", {{"k", nullptr}, {"new", true}}}}, "alpha",
           {{"If-Match", "\"1\""}});
  ASSERT_EQ(patched.status, 200) << patched.body.dump();
  EXPECT_EQ(patched.etag, "\"2\"");
  EXPECT_EQ(patched.body["custom_metadata"], json({{"app", "vet"}, {"new", true}}));
  const Answer stale =
      call("PATCH", "/v1/sessions/" + id, {{"user_id", "x"}}, "alpha", {{"If-Match", "1"}});
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.body["error"]["code"], "session_version_conflict");
  EXPECT_EQ(
      call("PATCH", "/v1/sessions/" + id, {{"ttl_seconds", 60}}, "alpha", {{"If-Match", "two"}})
          .status,
      400);
  EXPECT_EQ(call("GET", "/v1/sessions/" + id).body["user_id"], "u1");

  EXPECT_EQ(call("DELETE", "/v1/sessions/" + id, nullptr, "alpha", {{"If-Match", "1"}}).status,
            409);
  const Answer deleted = call("DELETE", "/v1/sessions/" + id);
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.body["deleted"], true);
  const Answer gone = call("GET", "/v1/sessions/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body["error"]["code"], "session_not_found");
  EXPECT_EQ(call("DELETE", "/v1/sessions/" + id).status, 404);
}

TEST_P(SessionsApiTest, ASessionDoesNotExistForAnotherService) {
  const std::string id = create({{"user_id", "u"}}, "alpha");
  ASSERT_EQ(turn(id, "Hello", {}, "alpha").status, 200);
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{{"GET", ""},
                                                        {"PATCH", ""},
                                                        {"DELETE", ""},
                                                        {"GET", "/messages"},
                                                        {"GET", "/export"},
                                                        {"GET", "/stats"},
                                                        {"GET", "/tree"},
                                                        {"POST", "/branch"}}) {
    const Answer a = call(method, "/v1/sessions/" + id + target,
                          method == "GET" ? json(nullptr) : json{{"message_count", 0}}, "beta");
    EXPECT_EQ(a.status, 404) << method << " " << target << " " << a.body.dump();
  }
  EXPECT_EQ(turn(id, "Hi", {}, "beta").status, 404);
  EXPECT_EQ(call("GET", "/v1/sessions", nullptr, "beta").body["total"], 0);
  EXPECT_EQ(call("GET", "/v1/sessions/usage", nullptr, "beta").body["data"].size(), 0u);
  // Untouched for its owner.
  EXPECT_EQ(messages(id)["total"], 2);
}

TEST_P(SessionsApiTest, TurnsStoreTheConversationAndReuseItsKvBlocks) {
  const std::string id = create({{"system_prompt", "You are a veterinary assistant."}});
  const Answer t1 = turn(id, "My dog has a cough. What should I do first?");
  ASSERT_EQ(t1.status, 200) << t1.body.dump();
  EXPECT_EQ(t1.etag, "\"2\"");
  const int p1 = t1.body["usage"]["prompt_tokens"];
  const int c1 = t1.body["usage"]["completion_tokens"];
  // Turn 2 names the session by header.
  const Answer t2 = turn("", "And if it lasts a week?", {}, "alpha", {{"X-Session-ID", id}});
  ASSERT_EQ(t2.status, 200) << t2.body.dump();
  const int p2 = t2.body["usage"]["prompt_tokens"];
  const int cached = t2.body["usage"]["prompt_tokens_details"]["cached_tokens"];
  EXPECT_GT(p2, p1 + c1);  // the history was prepended
  EXPECT_GE(cached, p1 / 16 * 16) << "turn 2 should reuse turn 1's prompt blocks: "
                                  << t2.body.dump();
  EXPECT_GT(cached, 0);

  const json m = messages(id);
  ASSERT_EQ(m["total"], 4) << m.dump();
  const json& d = m["data"];
  EXPECT_EQ(d[0]["role"], "user");
  EXPECT_EQ(d[0]["content"], "My dog has a cough. What should I do first?");
  EXPECT_GT(d[0]["tokens"].get<int>(), 5);
  EXPECT_EQ(d[1]["role"], "assistant");
  EXPECT_EQ(d[1]["content"], t1.body["choices"][0]["message"]["content"]);
  EXPECT_EQ(d[1]["tokens"], c1);
  EXPECT_EQ(d[1]["model"], "llama");
  EXPECT_EQ(d[1]["prompt_tokens"], p1);
  EXPECT_TRUE(d[1]["created_at"].is_string());
  EXPECT_EQ(d[3]["cached_tokens"], cached);
  EXPECT_EQ(call("GET", "/v1/sessions/" + id + "/messages?offset=1&limit=2").body["data"].size(),
            2u);
  const json rec = call("GET", "/v1/sessions/" + id).body;
  EXPECT_EQ(rec["version"], 3);
  EXPECT_EQ(rec["message_count"], 4);

  const json stats = call("GET", "/v1/sessions/" + id + "/stats").body;
  EXPECT_EQ(stats["turns"], 2);
  EXPECT_EQ(stats["prompt_tokens"], p1 + p2);
  // Turn 1 may reuse blocks of an identical earlier prompt (the model outlives each test).
  const int all_cached =
      t1.body["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>() + cached;
  EXPECT_EQ(stats["cached_tokens"], all_cached);
  EXPECT_EQ(stats["completion_tokens"], c1 + t2.body["usage"]["completion_tokens"].get<int>());
  EXPECT_GT(stats["avg_duration_ms"].get<double>(), 0.0);
  const double want_cost = ((p1 + p2 - all_cached) * 2.0 + all_cached * 1.0 +
                            stats["completion_tokens"].get<int>() * 4.0) /
                           1e6;
  EXPECT_NEAR(stats["cost_usd"].get<double>(), want_cost, 1e-12);

  const json usage = call("GET", "/v1/sessions/usage?group_by=model,day").body;
  ASSERT_EQ(usage["data"].size(), 1u) << usage.dump();
  EXPECT_EQ(usage["data"][0]["model"], "llama");
  EXPECT_EQ(usage["data"][0]["turns"], 2);
  EXPECT_EQ(usage["data"][0]["prompt_tokens"], p1 + p2);
  EXPECT_NEAR(usage["data"][0]["cost_usd"].get<double>(), want_cost, 1e-12);
  EXPECT_EQ(call("GET", "/v1/sessions/usage?from=2000-01-01&to=2000-01-02").body["data"].size(),
            0u);
  EXPECT_EQ(call("GET", "/v1/sessions/usage?group_by=planet").status, 400);
  EXPECT_EQ(call("GET", "/v1/sessions/usage?from=yesterday").status, 400);
}

TEST_P(SessionsApiTest, AStreamedTurnIsStoredWhole) {
  const std::string id = create();
  TestClient c(port_);
  json body = {{"messages", {{{"role", "user"}, {"content", "Tell me about cats."}}}},
               {"max_tokens", 8},
               {"temperature", 0},
               {"stream", true},
               {"session_id", id}};
  auto res = c.request("POST", "/v1/chat/completions", body.dump(), {{"X-Test-Service", "alpha"}},
                       60000ms);
  ASSERT_TRUE(res);
  std::string text;
  const std::string& b = res->body();
  for (size_t pos = 0; (pos = b.find("data: {", pos)) != std::string::npos; ++pos) {
    const json e = json::parse(b.substr(pos + 6, b.find('\n', pos) - pos - 6));
    if (!e["choices"].empty() && e["choices"][0]["delta"].contains("content"))
      text += e["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_NE(b.find("[DONE]"), std::string::npos);
  const json m = messages(id);
  ASSERT_EQ(m["total"], 2);
  EXPECT_EQ(m["data"][1]["content"], text);
}

TEST_P(SessionsApiTest, FailedAndCancelledTurnsStoreNothing) {
  std::string id = create();
  // Refused before generation.
  EXPECT_EQ(turn(id, "x", {{"max_tokens", 5000}}).status, 400);
  EXPECT_EQ(turn(id, "x", {{"n", 2}}).status, 400);
  EXPECT_EQ(turn(id, "x", {{"temperature", "hot"}}).status, 400);
  ASSERT_EQ(turn(id, "stored").status, 200);
  // Errors name the client's own messages, whatever the stored history.
  const Answer bad =
      call("POST", "/v1/chat/completions",
           {{"session_id", id},
            {"messages", {{{"role", "user"}, {"content", "ok"}}, {{"role", "robot"}}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error"]["param"], "messages[1].role") << bad.body.dump();
  EXPECT_EQ(bad.body["error"]["message"].get<std::string>().find("'messages[1].role'"), 0u)
      << bad.body.dump();
  ASSERT_EQ(call("DELETE", "/v1/sessions/" + id).status, 200);
  id = create();
  EXPECT_EQ(turn("no-such-session", "x").status, 404);
  EXPECT_EQ(turn(id, "x", {{"session_id", 5}}).status, 400);
  // Cancelled: the client leaves during a long generation.
  {
    TestClient c(port_);
    json body = {{"messages", {{{"role", "user"}, {"content", "Write a long story."}}}},
                 {"max_tokens", 900},
                 {"ignore_eos", true},
                 {"stream", true},
                 {"session_id", id}};
    ASSERT_TRUE(c.write(
        make_request("POST", "/v1/chat/completions", body.dump(), {{"X-Test-Service", "alpha"}})));
    ResponseParser parser;
    ASSERT_TRUE(c.read_header(parser, 30000ms));
    c.close();
  }
  std::this_thread::sleep_for(500ms);
  const json rec = call("GET", "/v1/sessions/" + id).body;
  EXPECT_EQ(rec["message_count"], 0) << rec.dump();
  EXPECT_EQ(rec["version"], 1);
  // The server still works for the session.
  EXPECT_EQ(turn(id, "Hello").status, 200);
  EXPECT_EQ(messages(id)["total"], 2);
}

TEST_P(SessionsApiTest, ConcurrentWritersWithIfMatchOneWinsNothingLost) {
  const std::string id = create();
  Answer a, b;
  std::thread ta([&] {
    a = turn(id, "first writer", {}, "alpha", {{"X-Session-ID", id}, {"If-Match", "\"1\""}});
  });
  std::thread tb([&] {
    b = turn(id, "second writer", {}, "alpha", {{"X-Session-ID", id}, {"If-Match", "\"1\""}});
  });
  ta.join();
  tb.join();
  ASSERT_EQ(std::min(a.status, b.status), 200) << a.body.dump() << b.body.dump();
  ASSERT_EQ(std::max(a.status, b.status), 409) << a.body.dump() << b.body.dump();
  const json m = messages(id);
  ASSERT_EQ(m["total"], 2);
  EXPECT_EQ(m["data"][0]["content"], a.status == 200 ? "first writer" : "second writer");
  // Without If-Match, concurrent writers are applied one after the other.
  std::thread tc([&] { a = turn(id, "c"); });
  std::thread td([&] { b = turn(id, "d"); });
  tc.join();
  td.join();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(b.status, 200);
  const json all = messages(id);
  EXPECT_EQ(all["total"], 6);
  EXPECT_EQ(call("GET", "/v1/sessions/" + id).body["version"], 4);
}

TEST_P(SessionsApiTest, BranchTreeExportImport) {
  const std::string root = create({{"system_prompt", "Be brief."}, {"metadata", {{"case", 7}}}});
  ASSERT_EQ(turn(root, "One").status, 200);
  ASSERT_EQ(turn(root, "Two").status, 200);
  const Answer br = call("POST", "/v1/sessions/" + root + "/branch",
                         {{"message_count", 2}, {"session_id", "alt"}});
  ASSERT_EQ(br.status, 201) << br.body.dump();
  EXPECT_EQ(br.body["parent_session_id"], root);
  EXPECT_EQ(br.body["parent_message_count"], 2);
  EXPECT_EQ(br.body["system_prompt"], "Be brief.");
  EXPECT_EQ(messages("alt")["total"], 2);
  ASSERT_EQ(turn("alt", "Three instead").status, 200);
  EXPECT_EQ(messages("alt")["data"][2]["content"], "Three instead");
  EXPECT_EQ(messages(root)["total"], 4);
  EXPECT_EQ(call("POST", "/v1/sessions/" + root + "/branch", {{"message_count", 9}}).status, 400);
  EXPECT_EQ(call("POST", "/v1/sessions/" + root + "/branch", json::object()).status, 400);
  const Answer leaf = call("POST", "/v1/sessions/alt/branch", {{"message_count", 0}});
  ASSERT_EQ(leaf.status, 201);

  const json tree =
      call("GET", "/v1/sessions/" + leaf.body["session_id"].get<std::string>() + "/tree").body;
  EXPECT_EQ(tree["root"], root);
  ASSERT_EQ(tree["sessions"].size(), 3u) << tree.dump();
  EXPECT_EQ(tree["sessions"][1]["session_id"], "alt");
  EXPECT_EQ(tree["sessions"][2]["parent_session_id"], "alt");

  const json doc = call("GET", "/v1/sessions/" + root + "/export").body;
  EXPECT_EQ(doc["object"], "session.export");
  ASSERT_EQ(doc["messages"].size(), 4u);
  const Answer imported = call("POST", "/v1/sessions/import?session_id=copy", doc, "beta");
  ASSERT_EQ(imported.status, 201) << imported.body.dump();
  EXPECT_EQ(imported.body["sandbox_id"], "beta");
  EXPECT_EQ(imported.body["custom_metadata"]["case"], 7);
  EXPECT_EQ(imported.body["created_at"], doc["session"]["created_at"]);
  const json copied = messages("copy", "beta");
  ASSERT_EQ(copied["total"], 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(copied["data"][i], doc["messages"][i]);
  // The copy continues as a conversation of its own.
  EXPECT_EQ(turn("copy", "Four", {}, "beta").status, 200);
  EXPECT_EQ(call("POST", "/v1/sessions/import", doc).status,
            409);  // the exporter still holds that id
  EXPECT_EQ(call("POST", "/v1/sessions/import", {{"object", "list"}}).status, 400);
  json broken = doc;
  broken["session"]["created_at"] = "yesterday";
  const Answer bad = call("POST", "/v1/sessions/import?session_id=x2", broken);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error"]["param"], "session.created_at");
}

TEST_P(SessionsApiTest, TemplatesGiveSessionsTheirPromptAndParameters) {
  const Answer t = call("POST", "/v1/sessions/templates",
                        {{"name", "triage"},
                         {"description", "vet triage"},
                         {"system_prompt", "Ask about symptoms."},
                         {"parameters", {{"max_tokens", 3}, {"temperature", 0}}}});
  ASSERT_EQ(t.status, 201) << t.body.dump();
  const Answer bad = call("POST", "/v1/sessions/templates",
                          {{"name", "x"}, {"parameters", {{"temperature", "hot"}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error"]["param"], "parameters.temperature");
  EXPECT_EQ(
      call("POST", "/v1/sessions/templates", {{"name", "x"}, {"parameters", {{"stream", true}}}})
          .status,
      400);
  EXPECT_EQ(call("GET", "/v1/sessions/templates").body["data"].size(), 1u);
  EXPECT_EQ(call("GET", "/v1/sessions/templates", nullptr, "beta").body["data"].size(), 0u);
  EXPECT_EQ(call("GET", "/v1/sessions/templates/triage").body["system_prompt"],
            "Ask about symptoms.");

  const std::string id = create({{"template", "triage"}});
  const json rec = call("GET", "/v1/sessions/" + id).body;
  EXPECT_EQ(rec["template"], "triage");
  EXPECT_EQ(rec["system_prompt"], "Ask about symptoms.");
  const json body = {{"session_id", id},
                     {"messages", {{{"role", "user"}, {"content", "My cat is sneezing."}}}}};
  const Answer a = call("POST", "/v1/chat/completions", body);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_LE(a.body["usage"]["completion_tokens"].get<int>(), 3);  // the template's max_tokens

  EXPECT_EQ(call("POST", "/v1/sessions", {{"template", "nope"}}).status, 404);
  EXPECT_EQ(call("DELETE", "/v1/sessions/templates/triage").status, 200);
  EXPECT_EQ(call("GET", "/v1/sessions/templates/triage").status, 404);
}

TEST_P(SessionsApiTest, LongHistoriesAreTrimmedToTheContext) {
  const std::string id = create({{"system_prompt", "Keep this system prompt."}});
  std::string filler;
  for (int i = 0; i < 120; ++i) filler += "word" + std::to_string(i) + " ";
  int last_prompt = 0;
  for (int t = 0; t < 5; ++t) {
    const Answer a = turn(id, "Turn " + std::to_string(t) + ": " + filler);
    ASSERT_EQ(a.status, 200) << "turn " << t << ": " << a.body.dump();
    last_prompt = a.body["usage"]["prompt_tokens"];
    EXPECT_LE(last_prompt + 6, 1024);
  }
  // The prompt no longer holds every turn, the store does.
  EXPECT_EQ(messages(id)["total"], 10);
  const json one = turn(id, "short").body;
  EXPECT_LT(one["usage"]["prompt_tokens"].get<int>(), 1024);
  EXPECT_GT(last_prompt, 400);
}

// With a summary model, the turns a long history cannot fit are summarised instead of dropped:
// the summary is stored with the turn, stands for the oldest messages in later prompts (which
// share its prefix in the KV cache) and grows as the history does. Without a usable summary
// model, turns fall back to trimming.
TEST_P(SessionsApiTest, LongHistoriesAreSummarisedWithASummaryModel) {
  for (const std::string model : {"llama", "no-such-model"}) {
    sessions::SessionOptions so;
    so.store_url = url_;
    so.summary_model = model;
    so.summary_max_tokens = 24;
    auto service = sessions::SessionService::open(so);
    ASSERT_TRUE(service.ok()) << service.status().to_string();
    api_->sessions = *service;
    const std::string id = create({{"system_prompt", "Keep this system prompt."}});
    std::string filler;
    for (int i = 0; i < 60; ++i) filler += "word" + std::to_string(i) + " ";
    int64_t covered = 0;
    bool cached_after_summary = false;
    for (int t = 0; t < 8; ++t) {  // about 200 tokens each: 5 fit
      const Answer a = turn(id, "Turn " + std::to_string(t) + ": " + filler);
      ASSERT_EQ(a.status, 200) << model << " turn " << t << ": " << a.body.dump();
      const json r = call("GET", "/v1/sessions/" + id).body;
      const int64_t now_covered = r["summary_message_count"];
      if (covered > 0 && now_covered == covered)
        cached_after_summary |= a.body["usage"]["prompt_tokens_details"]["cached_tokens"] > 0;
      EXPECT_GE(now_covered, covered);
      EXPECT_EQ(now_covered % 2, 0) << "a summary ends at the start of a turn";
      covered = now_covered;
      if (covered > 0) {
        EXPECT_FALSE(r["summary"].get<std::string>().empty());
      }
    }
    EXPECT_EQ(messages(id)["total"], 16);  // the store keeps every message
    if (model == "llama") {
      EXPECT_GT(covered, 0);
      EXPECT_TRUE(cached_after_summary);
    } else {
      EXPECT_EQ(covered, 0);
    }
  }
}

TEST_P(SessionsApiTest, ExpiredSessionsAreGone) {
  // The turn must land within the lifetime (a loaded machine can take a while); the wait counts
  // from the creation.
  const auto created = std::chrono::steady_clock::now();
  const std::string id = create({{"ttl_seconds", 2}});
  ASSERT_EQ(turn(id, "quick").status, 200);
  std::this_thread::sleep_until(created + 2200ms);
  EXPECT_EQ(call("GET", "/v1/sessions/" + id).status, 404);
  EXPECT_EQ(turn(id, "late").status, 404);
  EXPECT_EQ(call("GET", "/v1/sessions").body["total"], 0);
  // Extending the TTL keeps a session (and its messages) alive.
  const auto created_kept = std::chrono::steady_clock::now();
  const std::string kept = create({{"ttl_seconds", 2}});
  ASSERT_EQ(turn(kept, "hello").status, 200);
  ASSERT_EQ(call("PATCH", "/v1/sessions/" + kept, {{"ttl_seconds", 60}}).status, 200);
  std::this_thread::sleep_until(created_kept + 2200ms);
  EXPECT_EQ(messages(kept)["total"], 2);
  EXPECT_TRUE(api_->sessions->sweep().ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, SessionsApiTest,
                         ::testing::Values("memory", "sqlite", "redis", "redis_cluster"),
                         [](const auto& info) { return info.param; });

TEST(SessionsDisabledTest, TheApiSaysSessionsAreOff) {
  INFERD_REQUIRE_SHARED(path, kModel);
  ServedModelOptions o;
  o.path = path.string();
  o.engine.ctx_per_slot = 256;
  o.engine.num_threads = 1;
  auto m = ServedModel::load(o);
  ASSERT_TRUE(m.ok());
  auto api = std::make_shared<ApiContext>();
  std::vector<std::unique_ptr<ServedModel>> models;
  models.push_back(std::move(m).value());
  api->publish(std::move(models));
  auto router = make_openai_router(api, "");
  ASSERT_TRUE(router.ok());
  HttpServer server(test_options(), std::move(router).value());
  ASSERT_TRUE(server.start().ok());
  TestClient c(server.port());
  auto res = c.request("GET", "/v1/sessions");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400);
  EXPECT_EQ(json::parse(res->body())["error"]["code"], "sessions_disabled");
  const json chat = {{"session_id", "x"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  res = c.request("POST", "/v1/chat/completions", chat.dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400);
  server.stop();
}

}  // namespace
}  // namespace inferd::server::testing

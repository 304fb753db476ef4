// KV persistence over HTTP: save a conversation's prefix, list it, restore it into a freshly
// started server (its next turn then reports the prefix as cached), erase it; names that could
// leave the directory and a server without --kv-dir are refused.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "model/synth_model.h"
#include "server/api/api_context.h"
#include "server/api/kv_endpoints.h"
#include "server/http_test_support.h"
#include "server/openai_server.h"
#include "testing/test_paths.h"

namespace inferd::server::testing {
namespace {

using nlohmann::json;

class KvEndpointsTest : public HttpServerFixture {
 protected:
  static std::string model_path() {
    const std::string path = (inferd::testing::temp_dir() / "kv-endpoints-model.gguf").string();
    if (!std::filesystem::exists(path)) {
      model::SynthOptions o;
      o.dim = 64;
      o.layers = 2;
      o.heads = 2;
      o.kv_heads = 1;
      o.ffn = 128;
      o.vocab = 400;
      o.context = 512;
      EXPECT_TRUE(model::write_synth_model(o, path).ok());
    }
    return path;
  }

  // Starts a server with a fresh engine (an empty prefix cache) over `kv_dir`.
  void start(const std::string& kv_dir) {
    if (server_) {
      server_->stop();
      server_.reset();
    }
    ServedModelOptions m;
    m.path = model_path();
    m.id = "tiny";
    m.engine.ctx_per_slot = 512;
    m.engine.num_threads = 1;
    auto loaded = ServedModel::load(m);
    ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
    api_ = std::make_shared<ApiContext>();
    api_->kv_dir = kv_dir;
    std::vector<std::unique_ptr<ServedModel>> models;
    models.push_back(std::move(loaded).value());
    api_->publish(std::move(models));
    auto router = make_openai_router(api_, "/api/v1");
    ASSERT_TRUE(router.ok());
    start_server(std::move(router).value());
  }
  void TearDown() override {
    HttpServerFixture::TearDown();
    api_.reset();
  }

  std::pair<int, json> call(std::string_view method, std::string_view target, const std::string& body = "") {
    TestClient c(port_);
    auto res = c.request(method, target, body, {{"Content-Type", "application/json"}}, 20000ms);
    if (!res) return {0, nullptr};
    return {res->result_int(), json::parse(res->body(), nullptr, false)};
  }

  std::shared_ptr<ApiContext> api_;
};

const json kMessages = {{{"role", "system"}, {"content", "You are the archivist of a long and detailed library catalogue."}},
                        {{"role", "user"}, {"content", "List the shelves."}}};

TEST_F(KvEndpointsTest, SaveListRestoreErase) {
  const auto dir = inferd::testing::temp_dir() / "kv-endpoints";
  std::filesystem::remove_all(dir);
  start(dir.string());
  const auto saved = call("POST", "/v1/kv/save", json{{"name", "library"}, {"messages", kMessages}}.dump());
  ASSERT_EQ(saved.first, 200) << saved.second.dump();
  const int64_t saved_tokens = saved.second["saved_tokens"];
  EXPECT_GE(saved_tokens, 16);
  EXPECT_EQ(saved_tokens % 16, 0);
  EXPECT_GT(saved.second["bytes"].get<int64_t>(), 0);
  EXPECT_TRUE(std::filesystem::exists(dir / "tiny" / "library.kv"));

  const auto list = call("GET", "/api/v1/kv");
  ASSERT_EQ(list.first, 200);
  ASSERT_EQ(list.second["data"].size(), 1u);
  EXPECT_EQ(list.second["data"][0]["name"], "library");

  start(dir.string());  // a restart: the prefix cache is empty
  const auto restored = call("POST", "/v1/kv/restore", json{{"name", "library"}}.dump());
  ASSERT_EQ(restored.first, 200) << restored.second.dump();
  EXPECT_EQ(restored.second["restored_tokens"], saved_tokens);
  const auto chat = call("POST", "/v1/chat/completions", json{{"messages", kMessages}, {"max_tokens", 2}}.dump());
  ASSERT_EQ(chat.first, 200) << chat.second.dump();
  EXPECT_EQ(chat.second["usage"]["prompt_tokens_details"]["cached_tokens"], saved_tokens);

  EXPECT_EQ(call("DELETE", "/v1/kv/library").first, 200);
  EXPECT_EQ(call("DELETE", "/v1/kv/library").first, 404);
  const auto gone = call("POST", "/v1/kv/restore", json{{"name", "library"}}.dump());
  EXPECT_EQ(gone.first, 404) << gone.second.dump();
  EXPECT_EQ(gone.second["error"]["param"], "name");
}

TEST_F(KvEndpointsTest, BadNamesCorruptFilesAndDisabledPersistenceAreErrors) {
  const auto dir = inferd::testing::temp_dir() / "kv-endpoints-bad";
  std::filesystem::remove_all(dir);
  start(dir.string());
  for (const char* name : {"../escape", ".hidden", "a/b", ""}) {
    const auto r = call("POST", "/v1/kv/save", json{{"name", name}, {"prompt", "hello"}}.dump());
    EXPECT_EQ(r.first, 400) << name;
    EXPECT_EQ(r.second["error"]["param"], "name") << name;
  }
  std::filesystem::create_directories(dir / "tiny");
  { std::ofstream(dir / "tiny" / "junk.kv") << "not a kv file"; }
  const auto junk = call("POST", "/v1/kv/restore", json{{"name", "junk"}}.dump());
  EXPECT_EQ(junk.first, 400) << junk.second.dump();
  EXPECT_NE(junk.second["error"]["message"].get<std::string>().find("KV file"), std::string::npos) << junk.second.dump();

  start("");
  const auto off = call("POST", "/v1/kv/save", json{{"name", "x"}, {"prompt", "hello"}}.dump());
  EXPECT_EQ(off.first, 400);
  EXPECT_EQ(off.second["error"]["code"], "kv_persistence_disabled");
}

}  // namespace
}  // namespace inferd::server::testing

// API keys end to end: keys made with `inferd keys` in an SQLite store and a key listed in the
// configuration by its hash, `inferd serve --config` requiring them (401 missing/wrong/revoked/
// expired, 403 without the scope, /health open), the admin key endpoints, rotation with a grace
// period, and revocation by the CLI while the server runs.
#include <csignal>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/http_request.h"
#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

using nlohmann::json;
using testing::http_request;

testing::ProcessResult keys(std::vector<std::string> args) {
  args.insert(args.begin(), {testing::inferd_binary(), "keys"});
  return testing::run_process(args);
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::pair<std::string, std::string>> bearer(const std::string& key) {
  return {{"Authorization", "Bearer " + key}};
}

TEST(ApiKeysProcessTest, KeysFromTheCliAndTheConfigGuardEveryEndpoint) {
  const std::string store = "sqlite:" + (testing::temp_dir() / "keys.db").string();
  // Keys made before the server starts.
  auto r = keys({"create", "--store", store, "--service", "ops", "--scopes", "admin", "--prefix", "lbrx_"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string admin = trimmed(r.out);
  ASSERT_TRUE(admin.starts_with("lbrx_")) << admin;
  r = keys({"create", "--store", store, "--service", "vista", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json vista = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(vista.is_object()) << r.out;
  EXPECT_EQ(vista["service"], "vista");
  EXPECT_EQ(vista["scopes"], json({"inference", "sessions"}));
  const std::string vista_key = vista["key"];
  r = keys({"create", "--store", store, "--service", "voice", "--rpm", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string limited_key = trimmed(r.out);
  EXPECT_FALSE(keys({"create", "--store", store, "--service", "x", "--scopes", "root"}).exit_code == 0);

  // A key the configuration lists by its hash.
  const std::string data_key = "data_AAAABBBBCCCC_" + std::string(32, 'z');
  const std::string expired_key = "data_AAAABBBBDDDD_" + std::string(32, 'y');
  r = keys({"hash", data_key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NE(r.out.find("sha256:"), std::string::npos);
  const std::string hash = r.out.substr(r.out.find("sha256:"), 71);
  const std::string expired_out = keys({"hash", expired_key}).out;
  const std::string expired_hash = expired_out.substr(expired_out.find("sha256:"), 71);
  const auto config = testing::temp_dir() / "auth.yaml";
  std::ofstream(config) << "auth:\n  keys_store: " << store << "\n"
                        << "services:\n  - {name: whisp, key_prefix: whisp_}\n"
                        << "api_keys:\n  - {id: AAAABBBBCCCC, prefix: data_, hash: " << hash
                        << ", service: data, scopes: [sessions]}\n"
                        << "  - {id: AAAABBBBDDDD, prefix: data_, hash: " << expired_hash
                        << ", service: data, expires_at: 2020-01-01T00:00:00Z}\n";
  r = testing::run_process({testing::inferd_binary(), "config", "check", config.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  const uint16_t port = testing::free_port();
  testing::ChildProcess server({testing::inferd_binary(), "serve", "--config", config.string(), "--port",
                                std::to_string(port), "--no-access-log"},
                               (testing::temp_dir() / "serve-keys.log").string());
  ASSERT_TRUE(server.started());
  testing::HttpAnswer a;
  for (int i = 0; i < 600 && a.status != 200; ++i) {
    a = http_request(port, "GET", "/health");
    if (a.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(a.status, 200) << server.log();  // public without a key

  a = http_request(port, "GET", "/v1/models");
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body["error"]["code"], "missing_api_key");
  EXPECT_NE(a.header("WWW-Authenticate"), "");
  a = http_request(port, "GET", "/v1/models", nullptr, bearer(vista_key + "x"));
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body["error"]["type"], "authentication_error");
  EXPECT_EQ(http_request(port, "GET", "/v1/models", nullptr, bearer(vista_key)).status, 200);
  EXPECT_EQ(http_request(port, "GET", "/api/v1/models", nullptr, {{"X-API-Key", vista_key}}).status, 200);
  const json chat = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 2}};
  EXPECT_EQ(http_request(port, "POST", "/v1/chat/completions", chat, bearer(vista_key)).status, 200);
  // The configured key has only the sessions scope.
  EXPECT_EQ(http_request(port, "GET", "/v1/sessions", nullptr, bearer(data_key)).status, 200);
  a = http_request(port, "POST", "/v1/chat/completions", chat, bearer(data_key));
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.body["error"]["code"], "insufficient_scope");
  EXPECT_EQ(http_request(port, "GET", "/v1/keys", nullptr, bearer(vista_key)).status, 403);

  // A key limited to 5 requests a minute, 20 parallel requests: 5 admitted, 15 refused with 429.
  std::vector<testing::HttpAnswer> answers(20);
  std::vector<std::thread> threads;
  for (auto& answer : answers)
    threads.emplace_back([&, port] { answer = http_request(port, "GET", "/v1/models", nullptr, bearer(limited_key)); });
  for (auto& t : threads) t.join();
  int admitted = 0;
  for (const auto& answer : answers) {
    if (answer.status == 200) {
      ++admitted;
      EXPECT_EQ(answer.header("X-RateLimit-Limit"), "5");
      continue;
    }
    ASSERT_EQ(answer.status, 429);
    EXPECT_EQ(answer.body["error"]["type"], "rate_limit_error");
    EXPECT_GE(std::stoi(answer.header("Retry-After")), 1);
    EXPECT_EQ(answer.header("X-RateLimit-Remaining"), "0");
  }
  EXPECT_EQ(admitted, 5);

  // Admin endpoints: create with the service's prefix, list, rotate, revoke.
  a = http_request(port, "POST", "/v1/keys", {{"service", "whisp"}, {"name", "asr"}, {"expires_in_s", 3600}},
                   bearer(admin));
  ASSERT_EQ(a.status, 201) << a.body.dump();
  const std::string whisp_key = a.body["key"];
  const std::string whisp_id = a.body["id"];
  EXPECT_TRUE(whisp_key.starts_with("whisp_")) << whisp_key;
  EXPECT_EQ(http_request(port, "GET", "/v1/models", nullptr, bearer(whisp_key)).status, 200);
  a = http_request(port, "POST", "/v1/keys", {{"service", "whisp"}, {"scopes", {"everything"}}}, bearer(admin));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["error"]["param"], "scopes");
  a = http_request(port, "GET", "/v1/keys", nullptr, bearer(admin));
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["data"].size(), 6u);  // two configured keys and four stored ones
  EXPECT_EQ(a.body.dump().find(whisp_key), std::string::npos);
  EXPECT_EQ(a.body.dump().find("sha256"), std::string::npos);
  EXPECT_EQ(http_request(port, "GET", "/v1/keys?service=whisp", nullptr, bearer(admin)).body["data"].size(), 1u);

  EXPECT_EQ(http_request(port, "DELETE", "/v1/keys/AAAABBBBCCCC", nullptr, bearer(admin)).body["error"]["code"],
            "key_read_only");

  // Rotation: both keys work during the grace period, the old one carries its deadline (the
  // deadline itself is tested on a fake clock in AccessControlTest.RevokedExpiredAndRotatedKeys).
  a = http_request(port, "POST", "/v1/keys/" + whisp_id + "/rotate", {{"grace_s", 3600}}, bearer(admin));
  ASSERT_EQ(a.status, 201) << a.body.dump();
  const std::string rotated_key = a.body["key"];
  const std::string rotated_id = a.body["id"];
  EXPECT_EQ(a.body["rotated_from"], whisp_id);
  EXPECT_EQ(http_request(port, "GET", "/v1/models", nullptr, bearer(whisp_key)).status, 200);
  EXPECT_EQ(http_request(port, "GET", "/v1/models", nullptr, bearer(rotated_key)).status, 200);
  a = http_request(port, "GET", "/v1/keys/" + whisp_id, nullptr, bearer(admin));
  EXPECT_EQ(a.body["replaced_by"], rotated_id);
  EXPECT_TRUE(a.body["expires_at"].is_number());
  // An expired key is refused.
  a = http_request(port, "GET", "/v1/sessions", nullptr, bearer(expired_key));
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.body["error"]["message"].get<std::string>().find("expired"), std::string::npos) << a.text;

  // Revoked by the CLI while the server runs: refused from the next request on.
  r = keys({"revoke", "--store", store, vista["id"]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  a = http_request(port, "GET", "/v1/models", nullptr, bearer(vista_key));
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.body["error"]["message"].get<std::string>().find("revoked"), std::string::npos);
  r = keys({"list", "--store", store, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out, nullptr, false).size(), 5u);

  // Request metrics are labelled with the caller's service.
  a = http_request(port, "GET", "/metrics", nullptr, bearer(admin));
  ASSERT_EQ(a.status, 200);
  EXPECT_NE(a.text.find("endpoint=\"/v1/models\",method=\"GET\",status=\"200\",service=\"vista\""), std::string::npos)
      << a.text.substr(0, 2000);

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(15000), 0) << server.log();
}

}  // namespace
}  // namespace inferd

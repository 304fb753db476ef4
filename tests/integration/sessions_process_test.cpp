// Sessions with `inferd serve` as a process.
// Durability in SQLite: the server is killed (SIGKILL) while turns are being generated and
// committed, then restarted on the same file. Every turn whose answer reached the client is
// stored, the turn in flight is either whole or absent (never half: no user message without its
// answer, no message beyond the record's count), and the store still works.
// A server on a private Redis Cluster (--session-store redis+cluster://...).
// The CLI: `inferd sessions list|show|export|import|rm` against the running server.
#include <atomic>
#include <csignal>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/sessions/kv_store.h"
#include "server/sessions/redis_key_slot.h"
#include "server/sessions/session_record.h"
#include "testing/http_request.h"
#include "testing/redis_cluster.h"
#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

using nlohmann::json;

constexpr const char* kModel = "fixtures/fixture-llama-f16.gguf";


// The status and JSON body of one request, or status 0 when the server did not answer.
std::pair<int, json> request(uint16_t port, const std::string& method, const std::string& target,
                             const json& body = nullptr) {
  const testing::HttpAnswer a = testing::http_request(port, method, target, body);
  return {a.status, a.body};
}

class Server {
 public:
  Server(const std::filesystem::path& model, const std::string& store_url, const std::string& log)
      : port_(testing::free_port()),
        process_({testing::inferd_binary(), "serve", "--model", model.string(), "--port",
                  std::to_string(port_), "--threads", "1", "--ctx-size", "512", "--no-access-log",
                  "--session-store", store_url},
                 log) {}
  // Waits until the model is ready.
  bool ready() {
    for (int i = 0; i < 600; ++i) {
      if (request(port_, "GET", "/health").first == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  void kill() {
    process_.signal(SIGKILL);
    process_.wait(10000);
  }
  uint16_t port() const { return port_; }
  std::string log() const { return process_.log(); }

 private:
  uint16_t port_;
  testing::ChildProcess process_;
};

json turn_body(const std::string& id, int n, int max_tokens) {
  return {{"session_id", id},
          {"messages", {{{"role", "user"}, {"content", "turn " + std::to_string(n)}}}},
          {"max_tokens", max_tokens},
          {"ignore_eos", true},
          {"temperature", 0}};
}

// Checks the stored conversation: whole turns "turn 0", "turn 1", ... each followed by its
// answer, at least `completed` of them. Returns how many are stored.
int check_stored(uint16_t port, const std::string& id, int completed, const std::string& db) {
  const auto [status, rec] = request(port, "GET", "/v1/sessions/" + id);
  EXPECT_EQ(status, 200) << rec.dump();
  const int count = rec.value("message_count", -1);
  const auto [mstatus, m] =
      request(port, "GET", "/v1/sessions/" + id + "/messages?limit=1000");
  EXPECT_EQ(mstatus, 200);
  EXPECT_EQ(m["total"], count);
  EXPECT_EQ(count % 2, 0) << "a half turn is stored: " << m.dump();
  const int turns = count / 2;
  EXPECT_TRUE(turns == completed || turns == completed + 1)
      << turns << " turns stored, " << completed << " answered: " << m.dump();
  for (int t = 0; t < turns && 2 * t + 1 < static_cast<int>(m["data"].size()); ++t) {
    EXPECT_EQ(m["data"][2 * t]["role"], "user");
    EXPECT_EQ(m["data"][2 * t]["content"], "turn " + std::to_string(t));
    EXPECT_EQ(m["data"][2 * t + 1]["role"], "assistant");
  }
  EXPECT_EQ(rec.value("version", 0), 1 + turns);
  // No message entry beyond the record's count (a half-written turn) in the file.
  auto store = server::sessions::open_kv_store("sqlite:" + db);
  EXPECT_TRUE(store.ok()) << store.status().to_string();
  if (store.ok()) {
    auto keys = (*store)->keys("session_messages:{" + server::sessions::record_key(id) + "}:");
    EXPECT_TRUE(keys.ok());
    if (keys.ok()) {
      EXPECT_EQ(static_cast<int>(keys->size()), count);
    }
  }
  return turns;
}

TEST(SessionDurabilityTest, KilledMidTurnKeepsEveryCompletedTurnAndNoHalfTurn) {
  INFERD_REQUIRE_SHARED(model, kModel);
  const auto dir = testing::temp_dir();
  const std::string db = (dir / "sessions.db").string();
  std::string id;
  int stored = 0;
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    Server server(model, "sqlite:" + db,
                  (dir / ("serve-" + std::to_string(round) + ".log")).string());
    ASSERT_TRUE(server.ready()) << server.log();
    if (round == 0) {
      const auto [status, created] =
          request(server.port(), "POST", "/v1/sessions", json::object());
      ASSERT_EQ(status, 201) << created.dump();
      id = created["session_id"];
    } else {
      stored = check_stored(server.port(), id, stored, db);
    }
    // One turn answered before the kill is certainly stored.
    const auto [status, answer] =
        request(server.port(), "POST", "/v1/chat/completions", turn_body(id, stored, 4));
    ASSERT_EQ(status, 200) << answer.dump() << server.log();
    ++stored;
    // Turns in a loop while the server is killed at a random moment.
    std::atomic<int> answered{0};
    std::atomic<bool> stop{false};
    std::thread client([&] {
      for (int n = stored; !stop; ++n) {
        if (request(server.port(), "POST", "/v1/chat/completions", turn_body(id, n, 24))
                .first != 200)
          break;
        ++answered;
      }
    });
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 900)(rng)));
    server.kill();
    stop = true;
    client.join();
    stored += answered;
  }
  Server last(model, "sqlite:" + db, (dir / "serve-last.log").string());
  ASSERT_TRUE(last.ready()) << last.log();
  const int turns = check_stored(last.port(), id, stored, db);
  // The store still takes turns after the crashes.
  EXPECT_EQ(
      request(last.port(), "POST", "/v1/chat/completions", turn_body(id, turns, 2)).first,
      200);
}

TEST(SessionsCliTest, ListShowExportImportRemove) {
  INFERD_REQUIRE_SHARED(model, kModel);
  const auto dir = testing::temp_dir();
  Server server(model, "memory", (dir / "serve.log").string());
  ASSERT_TRUE(server.ready()) << server.log();
  const auto [status, created] = request(server.port(), "POST", "/v1/sessions",
                                         {{"session_id", "cli-1"}, {"user_id", "ann"}});
  ASSERT_EQ(status, 201) << created.dump();
  ASSERT_EQ(
      request(server.port(), "POST", "/v1/chat/completions", turn_body("cli-1", 0, 3))
          .first,
      200);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {testing::inferd_binary(), "sessions", "--server", url});
    return testing::run_process(args);
  };

  auto r = cli({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cli-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ann"), std::string::npos) << r.out;
  r = cli({"list", "--json", "--user", "bob"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["total"], 0);

  r = cli({"show", "cli-1", "--messages"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json shown = json::parse(r.out);
  EXPECT_EQ(shown["session_id"], "cli-1");
  ASSERT_EQ(shown["messages"].size(), 2u);
  EXPECT_EQ(shown["messages"][0]["content"], "turn 0");

  const std::string file = (dir / "cli-1.json").string();
  r = cli({"export", "cli-1", "-o", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli({"rm", "cli-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli({"show", "cli-1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("404"), std::string::npos) << r.err;
  r = cli({"import", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "cli-1\n");
  r = cli({"import", file, "--id", "cli-2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli({"show", "cli-2", "--messages"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["messages"], shown["messages"]);
  r = cli({"import", (dir / "missing.json").string()});
  EXPECT_EQ(r.exit_code, 1);

  r = testing::run_process(
      {testing::inferd_binary(), "sessions", "--server", "http://127.0.0.1:1", "list"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot reach"), std::string::npos) << r.err;
}

TEST(SessionsClusterServeTest, ServesSessionsFromARedisCluster) {
  INFERD_REQUIRE_SHARED(model, kModel);
  testing::RedisCluster cluster;
  INFERD_REQUIRE_REDIS_CLUSTER(cluster);
  const auto dir = testing::temp_dir();
  Server server(model, cluster.url(), (dir / "serve.log").string());
  ASSERT_TRUE(server.ready()) << server.log();
  const auto [status, created] =
      request(server.port(), "POST", "/v1/sessions", {{"session_id", "on-cluster"}});
  ASSERT_EQ(status, 201) << created.dump();
  for (int t = 0; t < 2; ++t)
    ASSERT_EQ(
        request(server.port(), "POST", "/v1/chat/completions", turn_body("on-cluster", t, 2)).first,
        200)
        << server.log();
  const auto [mstatus, m] = request(server.port(), "GET", "/v1/sessions/on-cluster/messages");
  ASSERT_EQ(mstatus, 200) << m.dump();
  EXPECT_EQ(m["total"], 4);
  // The record and its messages sit on the node that serves the record's slot.
  const int node = cluster.owner_of(
      server::sessions::redis_key_slot(server::sessions::record_key("on-cluster")));
  EXPECT_NE(cluster.command(node, {"GET", "session:on-cluster"}), "");
  EXPECT_NE(cluster.command(node, {"GET", server::sessions::message_key("on-cluster", 3)}), "");
}

TEST(SessionsServeOptionsTest, ABadStoreOrPriceIsRefusedAtStart) {
  auto r = testing::run_process(
      {testing::inferd_binary(), "serve", "--port", "0", "--session-store", "mongodb://x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown session store 'mongodb://x'"), std::string::npos) << r.err;
  r = testing::run_process(
      {testing::inferd_binary(), "serve", "--port", "0", "--session-store", "redis://127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot connect to redis"), std::string::npos) << r.err;
  r = testing::run_process({testing::inferd_binary(), "serve", "--port", "0", "--session-store",
                            "redis+cluster://127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no node of the redis cluster answered"), std::string::npos) << r.err;
  r = testing::run_process({testing::inferd_binary(), "serve", "--port", "0", "--session-store",
                            "memory", "--session-price", "llama=1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("sessions.prices: 'llama=1'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace inferd

// A private Redis Cluster for tests: num_nodes redis-server processes in cluster mode on free
// 127.0.0.1 ports (no persistence, no replicas), the 16384 slots split evenly between them
// (CLUSTER ADDSLOTSRANGE, then CLUSTER MEET), ready once every node reports cluster_state:ok.
// Nodes keep serving their slots when another node dies (cluster-require-full-coverage no).
// available() is false (and tests skip, saying why) when redis-server is missing or the cluster
// did not form. The processes are killed when the object goes. A cluster takes about 2 s to form
// (a new master waits before it turns writable), so suites share one where they can.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdio>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "server/sessions/redis_command.h"
#include "testing/redis_server.h"
#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd::testing {

class RedisCluster {
 public:
  explicit RedisCluster(int num_nodes = 3) {
    const std::string bin = RedisServer::binary();
    if (bin.empty()) {
      why_ = "redis-server not installed (apt-get install redis-server)";
      return;
    }
    const auto dir = temp_dir();
    for (int i = 0; i < num_nodes; ++i) {
      const uint16_t port = free_port();
      const auto node_dir = dir / ("node-" + std::to_string(i));
      std::filesystem::create_directories(node_dir);
      ports_.push_back(port);
      processes_.push_back(std::make_unique<ChildProcess>(
          std::vector<std::string>{bin,
                                   "--port",
                                   std::to_string(port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   node_dir.string(),
                                   "--protected-mode",
                                   "no",
                                   "--cluster-enabled",
                                   "yes",
                                   "--cluster-config-file",
                                   (node_dir / ("nodes-" + std::to_string(i) + ".conf")).string(),
                                   "--cluster-node-timeout",
                                   "2000",
                                   "--cluster-require-full-coverage",
                                   "no"},
          (node_dir / "redis.log").string()));
    }
    for (int i = 0; i < num_nodes; ++i)
      if (!wait_for_port(ports_[i])) {
        why_ = "redis-server did not start: " + processes_[i]->log();
        return;
      }
    for (int i = 0; i < num_nodes; ++i) {
      // Distinct config epochs before the nodes meet. Nodes that start with equal epochs resolve
      // the collision later by bumping one of them; if that happens to an old owner during a slot
      // migration, its stale claim wins and the new owner drops the slot's keys.
      if (command(i, {"CLUSTER", "SET-CONFIG-EPOCH", std::to_string(i + 1)}) != "OK") {
        why_ = "CLUSTER SET-CONFIG-EPOCH failed on node " + std::to_string(i);
        return;
      }
      const int first = i * 16384 / num_nodes, last = (i + 1) * 16384 / num_nodes - 1;
      if (command(i, {"CLUSTER", "ADDSLOTSRANGE", std::to_string(first), std::to_string(last)}) !=
          "OK") {
        why_ = "CLUSTER ADDSLOTSRANGE failed on node " + std::to_string(i);
        return;
      }
      ids_.push_back(command(i, {"CLUSTER", "MYID"}));
      for (int slot = first; slot <= last; ++slot) slot_owner_[slot] = i;
    }
    for (int i = 1; i < num_nodes; ++i)
      command(0, {"CLUSTER", "MEET", "127.0.0.1", std::to_string(ports_[i])});
    for (int tries = 0; tries < 400 && !ready_; ++tries) {
      ready_ = true;
      for (int i = 0; i < num_nodes && ready_; ++i) {
        const std::string info = command(i, {"CLUSTER", "INFO"});
        ready_ = info.find("cluster_state:ok") != std::string::npos &&
                 info.find("cluster_known_nodes:" + std::to_string(num_nodes)) != std::string::npos;
      }
      if (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (!ready_)
      why_ = "the cluster did not reach cluster_state:ok: " + command(0, {"CLUSTER", "INFO"});
  }

  bool available() const { return ready_; }
  const std::string& why_unavailable() const { return why_; }
  int num_nodes() const { return static_cast<int>(ports_.size()); }
  uint16_t port(int node) const { return ports_[node]; }
  // The URL naming only the first node: the others come from its slot map.
  std::string url() const { return "redis+cluster://127.0.0.1:" + std::to_string(ports_[0]); }

  // Runs argv on one node; the reply as text (a status, string, integer or error; "" for nil
  // or when the node cannot be reached; array elements joined by newlines).
  std::string command(int node, const std::vector<std::string>& argv) const {
    const timeval timeout{2, 0};
    redisContext* ctx = redisConnectWithTimeout("127.0.0.1", ports_[node], timeout);
    if (!ctx || ctx->err) {
      if (ctx) redisFree(ctx);
      return "";
    }
    const std::string out = text(server::sessions::redis_command_argv(ctx, argv).get());
    redisFree(ctx);
    return out;
  }

  // The node (index) that serves `slot` (as assigned here, moves included).
  int owner_of(uint16_t slot) const { return slot_owner_[slot]; }

  // Slot migration to node `to`, in two halves: begin marks the slot IMPORTING on `to` and
  // MIGRATING on its owner (new keys of the slot are then redirected with ASK); finish moves
  // the remaining keys (MIGRATE) and assigns the slot to `to` on every node.
  bool begin_slot_migration(uint16_t slot, int to) {
    const int from = owner_of(slot);
    if (from < 0 || from == to) return false;
    const std::string s = std::to_string(slot);
    return command(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", ids_[from]}) == "OK" &&
           command(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", ids_[to]}) == "OK";
  }
  bool finish_slot_migration(uint16_t slot, int from, int to) {
    const std::string s = std::to_string(slot);
    for (;;) {
      const std::string keys = command(from, {"CLUSTER", "GETKEYSINSLOT", s, "100"});
      if (keys.empty()) break;
      std::vector<std::string> argv = {"MIGRATE", "127.0.0.1", std::to_string(ports_[to]), "", "0",
                                       "5000",    "KEYS"};
      size_t start = 0;
      while (start <= keys.size()) {
        const size_t nl = keys.find('\n', start);
        argv.push_back(
            keys.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
      if (const std::string reply = command(from, argv); reply != "OK") {
        std::fprintf(stderr, "redis cluster: MIGRATE of slot %s failed: %s\n", s.c_str(), reply.c_str());
        return false;
      }
    }
    // The new owner first, then the old one, then the rest.
    command(to, {"CLUSTER", "SETSLOT", s, "NODE", ids_[to]});
    command(from, {"CLUSTER", "SETSLOT", s, "NODE", ids_[to]});
    for (int i = 0; i < num_nodes(); ++i)
      if (i != to && i != from) command(i, {"CLUSTER", "SETSLOT", s, "NODE", ids_[to]});
    slot_owner_[slot] = to;
    // Until every node agrees. Gossip may carry the old owner's claim to a node that has not yet
    // heard of the new owner's epoch; such a node is told again every second.
    for (int tries = 1; tries <= 400; ++tries) {
      bool agreed = true;
      for (int i = 0; i < num_nodes(); ++i) {
        if (owner_port_seen_by(i, slot) == ports_[to]) continue;
        agreed = false;
        if (tries % 40 == 0) command(i, {"CLUSTER", "SETSLOT", s, "NODE", ids_[to]});
      }
      if (agreed) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::fprintf(stderr, "redis cluster: the nodes did not agree on slot %s's new owner\n", s.c_str());
    return false;
  }
  bool move_slot(uint16_t slot, int to) {
    const int from = owner_of(slot);
    return begin_slot_migration(slot, to) && finish_slot_migration(slot, from, to);
  }

  // Empties every node (FLUSHALL), so tests can share one cluster.
  bool flush_all() const {
    for (int i = 0; i < num_nodes(); ++i)
      if (command(i, {"FLUSHALL"}) != "OK") return false;
    return true;
  }

  // SIGKILL one node.
  void kill(int node) {
    processes_[node]->signal(SIGKILL);
    processes_[node]->wait(5000);
  }

  std::string log() const {
    std::string out;
    for (const auto& p : processes_) out += p->log();
    return out;
  }

 private:
  static uint16_t free_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
  }

  static bool wait_for_port(uint16_t port) {
    for (int i = 0; i < 200; ++i) {
      boost::asio::io_context ioc;
      boost::asio::ip::tcp::socket s(ioc);
      boost::system::error_code ec;
      s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
      if (!ec) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  // The port of the master that `node` says serves `slot` (CLUSTER SLOTS), 0 when unknown.
  int owner_port_seen_by(int node, uint16_t slot) const {
    const timeval timeout{2, 0};
    redisContext* ctx = redisConnectWithTimeout("127.0.0.1", ports_[node], timeout);
    if (!ctx || ctx->err) {
      if (ctx) redisFree(ctx);
      return 0;
    }
    auto* r = static_cast<redisReply*>(redisCommand(ctx, "CLUSTER SLOTS"));
    int port = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
      const redisReply* range = r->element[i];
      if (range->elements >= 3 && range->element[0]->integer <= slot &&
          slot <= range->element[1]->integer && range->element[2]->elements >= 2)
        port = static_cast<int>(range->element[2]->element[1]->integer);
    }
    if (r) freeReplyObject(r);
    redisFree(ctx);
    return port;
  }

  static std::string text(const redisReply* r) {
    if (!r) return "";
    switch (r->type) {
      case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
      case REDIS_REPLY_ARRAY: {
        std::string out;
        for (size_t i = 0; i < r->elements; ++i) out += (i ? "\n" : "") + text(r->element[i]);
        return out;
      }
      case REDIS_REPLY_NIL: return "";
      default: return std::string(r->str, r->len);
    }
  }

  std::vector<uint16_t> ports_;
  std::vector<std::string> ids_;
  std::vector<int> slot_owner_ = std::vector<int>(16384, -1);
  std::vector<std::unique_ptr<ChildProcess>> processes_;
  bool ready_ = false;
  std::string why_;
};

}  // namespace inferd::testing

// Skips the current test when the cluster could not be started.
#define INFERD_REQUIRE_REDIS_CLUSTER(cluster) \
  if (!(cluster).available()) GTEST_SKIP() << (cluster).why_unavailable()

// RedisClusterClient: commands to a Redis Cluster over hiredis (which has no cluster support of
// its own), routed by key slot to the master that serves it.
//
// The slot map comes from CLUSTER SLOTS, asked of any node it knows (the seeds first time). One
// connection per node, opened on first use. A command for a slot goes to the slot's master and:
// - MOVED: the slot is re-pointed at once, the whole map is read again before the next command,
//   and the command is sent to the new owner;
// - ASK (a slot in migration): ASKING then the command on the importing node, for this command
// only;
// - TRYAGAIN / CLUSTERDOWN: the command is sent again after a short pause;
// - a node that cannot be reached: its connection is dropped, the map is read again, and the
//   command is retried when the slot now lives elsewhere; otherwise the call fails with kIo. A
//   node that refused a connection is not tried again for node_retry_interval (calls for its
//   slots fail at once), so a dead node costs one timeout per interval, not one per call.
// Every call makes at most max_attempts tries, then fails with kIo naming the last reason.
// Thread safety: every method may be called from any thread; calls are serialised (one mutex
// guards the map and the connections).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/sessions/redis_command.h"

struct redisContext;
struct redisReply;

namespace inferd::server::sessions {

struct RedisNodeAddress {
  std::string host;
  int port = 0;
  std::string name() const { return host + ":" + std::to_string(port); }
};

struct RedisClusterOptions {
  std::vector<RedisNodeAddress> seeds;       // nodes asked for the slot map first; at least one
  std::string password;                      // empty: no AUTH
  std::chrono::milliseconds timeout{5'000};  // connect and each command
  std::chrono::milliseconds node_retry_interval{1'000};
  int max_attempts = 6;  // tries per command (redirections and retries included)
};

// True for URLs that name a cluster (redis+cluster://...).
bool is_redis_cluster_url(std::string_view url);
// Parses redis+cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...] (a cluster has no databases).
Result<RedisClusterOptions> parse_redis_cluster_url(const std::string& url);

// The lowercase hex SHA1 of a Lua script (its EVALSHA name).
std::string redis_script_sha1(std::string_view source);

class RedisClusterClient {
 public:
  // Reads the slot map from the first seed that answers. Errors: no seed answers (kIo), a
  // node that is not in cluster mode (kInvalidArgument).
  static Result<std::shared_ptr<RedisClusterClient>> open(RedisClusterOptions options);
  ~RedisClusterClient();
  RedisClusterClient(const RedisClusterClient&) = delete;
  RedisClusterClient& operator=(const RedisClusterClient&) = delete;

  // Runs argv on the master serving `slot` (see the file comment for redirections). The reply
  // may be an error reply other than a redirection: the caller reads it.
  Result<RedisReply> command(uint16_t slot, const std::vector<std::string>& argv);

  struct SlotCommand {
    uint16_t slot = 0;
    std::vector<std::string> argv;
  };
  // Several commands, pipelined per node; any that is redirected or whose node fails is run
  // again by command(). One reply per command, in order; the first failure fails the call.
  Result<std::vector<RedisReply>> command_many(const std::vector<SlotCommand>& commands);

  // A Lua script on the slot's master: EVALSHA, then EVAL when the node lacks the script.
  Result<RedisReply> eval(uint16_t slot, std::string_view source, const std::string& sha1,
                          const std::vector<std::string>& keys,
                          const std::vector<std::string>& args);

  // "host:port" of every node that serves slots in the current map (read again if a
  // redirection made it stale). Fails with kIo when no node answers.
  Result<std::vector<std::string>> masters();
  // Runs argv on one node by name (no redirections: for per-node commands such as SCAN).
  Result<RedisReply> command_on_node(const std::string& node, const std::vector<std::string>& argv);

  // "redis+cluster://host:port,..." of the seeds (no password).
  std::string describe() const;

 private:
  struct Node {
    RedisNodeAddress address;
    redisContext* ctx = nullptr;
    std::chrono::steady_clock::time_point down_until{};
  };
  static constexpr int kNoOwner = -1;

  explicit RedisClusterClient(RedisClusterOptions options);

  // REQUIRES: mu_ held (every method below).
  Node& node_locked(const RedisNodeAddress& address);
  Result<redisContext*> connection_locked(Node& node);
  void drop_locked(Node& node);
  // Sends argv to the node; kIo (and the connection dropped) on an I/O error.
  Result<RedisReply> send_locked(Node& node, const std::vector<std::string>& argv);
  // Reads CLUSTER SLOTS from the first node that answers (current owners, then the seeds).
  Status refresh_locked();
  Status refresh_if_wanted_locked();
  // The node serving `slot`, or null when no node does.
  Node* owner_locked(uint16_t slot);
  int owner_index_locked(const std::string& name);
  Result<RedisReply> command_locked(uint16_t slot, const std::vector<std::string>& argv);

  const RedisClusterOptions options_;
  std::mutex mu_;
  std::map<std::string, Node> nodes_;  // by "host:port"
  std::vector<std::string> owners_;    // the nodes named in the map
  std::array<int, 16384> slot_owner_;  // index into owners_, or kNoOwner
  bool refresh_wanted_ = false;        // a redirection showed the map is stale
};

}  // namespace inferd::server::sessions

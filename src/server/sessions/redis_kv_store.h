// RedisKvStore: KvStore on a Redis server (hiredis), for sessions shared by several servers.
//
// Values are plain strings under their keys (so other programs, chuk-sessions included, can read
// `session:{id}`); expiry is Redis's own (PEXPIREAT), so sweep() has nothing to do. A commit is
// WATCH on the expected keys, GET to check them, then MULTI/EXEC of the writes: EXEC fails when a
// watched key changed meanwhile, which reads as a failed expectation.
// For a Redis Cluster use RedisClusterKvStore (redis+cluster:// URLs).
// Thread safety: one connection guarded by a mutex (WATCH state belongs to the connection); it
// is re-established after an I/O error.
#pragma once

#include <mutex>
#include <string>

#include "server/sessions/kv_store.h"

struct redisContext;
struct redisReply;

namespace inferd::server::sessions {

struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string password;  // empty: no AUTH
};

// Parses redis://[:PASSWORD@]HOST[:PORT][/DB].
Result<RedisAddress> parse_redis_url(const std::string& url);

class RedisKvStore : public KvStore {
 public:
  // Connects (and checks the connection with PING).
  static Result<std::shared_ptr<RedisKvStore>> open(const RedisAddress& address);
  ~RedisKvStore() override;

  Result<std::optional<std::string>> get(const std::string& key) override;
  Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override;
  Result<bool> commit(const std::vector<KvExpect>& expect,
                      const std::vector<KvWrite>& writes) override;
  Result<std::vector<std::string>> keys(const std::string& prefix) override;
  Result<int64_t> sweep() override { return int64_t{0}; }
  std::string describe() const override;

 private:
  explicit RedisKvStore(RedisAddress address) : address_(std::move(address)) {}
  // REQUIRES: mu_ held.
  Status connect_locked();
  Status ensure_connected_locked();
  // Sends argv and returns its reply (owned by the caller), or the I/O error (the connection is
  // then dropped).
  Result<redisReply*> command_locked(const std::vector<std::string>& argv);
  Result<bool> commit_locked(const std::vector<KvExpect>& expect,
                             const std::vector<KvWrite>& writes);

  std::mutex mu_;
  const RedisAddress address_;
  redisContext* ctx_ = nullptr;
};

}  // namespace inferd::server::sessions

// KvStore: the key/value layer under sessions: string keys and values with an optional expiry,
// and atomic multi-key commits guarded by expectations on current values (optimistic
// concurrency). Implementations: memory (one process), SQLite in WAL mode (the default, durable
// on one machine), Redis (shared by several servers) and Redis Cluster (sharded).
//
// Contracts common to every implementation:
// - An entry past its expiry is invisible to get/get_many/keys/expectations, whether or not it
//   has been removed yet (expiry is enforced on read; sweep() removes what is left).
// - commit() applies every write or none, and only when every expectation holds at the moment
//   of the write; a failed expectation is the value false, not an error.
// - On a Redis Cluster every key of one commit (expectations and writes) must be in one hash
//   slot (redis_key_slot.h: give them one {hash tag}); a commit that spans slots fails with
//   kInternal and writes nothing. Users keep to this on every store, so data moves between them.
// - Errors (the store cannot be reached, a corrupt file) are Status values, never exceptions.
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace inferd::server::sessions {

// Milliseconds since the Unix epoch (the stores' clock for expiry).
int64_t unix_now_ms();

struct KvWrite {
  enum class Op { kPut, kErase, kExpire };
  Op op = Op::kPut;
  std::string key;
  std::string value;          // kPut
  int64_t expires_at_ms = 0;  // kPut, kExpire: Unix ms; 0 = never expires

  static KvWrite put(std::string key, std::string value, int64_t expires_at_ms) {
    return {Op::kPut, std::move(key), std::move(value), expires_at_ms};
  }
  static KvWrite erase(std::string key) { return {Op::kErase, std::move(key), {}, 0}; }
  // Changes the expiry of a live entry (no effect on an absent one).
  static KvWrite expire(std::string key, int64_t expires_at_ms) {
    return {Op::kExpire, std::move(key), {}, expires_at_ms};
  }
};

// The current value of `key` must equal `value` (nullopt: the key must be absent).
struct KvExpect {
  std::string key;
  std::optional<std::string> value;
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  virtual Result<std::optional<std::string>> get(const std::string& key) = 0;
  // One result per key, in order.
  virtual Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) = 0;
  // True: every write applied; false: an expectation failed and nothing was written.
  virtual Result<bool> commit(const std::vector<KvExpect>& expect,
                              const std::vector<KvWrite>& writes) = 0;
  // Live keys starting with `prefix`, sorted.
  virtual Result<std::vector<std::string>> keys(const std::string& prefix) = 0;
  // Removes expired entries; returns how many (stores that expire natively return 0).
  virtual Result<int64_t> sweep() = 0;
  // "memory", "sqlite:/path", "redis://host:port/db", "redis+cluster://host:port,..." (no
  // password).
  virtual std::string describe() const = 0;
};

// Opens the store a URL names:
//   memory                      one process, lost on exit
//   sqlite:PATH                 SQLite file in WAL mode (created with its directory)
//   redis://[:PASSWORD@]HOST[:PORT][/DB]   a Redis server (port 6379 and db 0 by default)
//   redis+cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...]   a Redis Cluster, found from any of
//                               the nodes named (the others come from its slot map)
Result<std::shared_ptr<KvStore>> open_kv_store(const std::string& url);

}  // namespace inferd::server::sessions

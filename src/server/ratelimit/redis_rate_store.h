// RedisRateStore: rate-limit state in Redis, shared by every server that uses the same Redis.
//
// Each call is one Lua script (EVALSHA, falling back to EVAL when Redis lost its script cache),
// so a check and its charges over every subject are atomic across servers. Scripts read Redis's
// own clock (TIME), so servers with skewed clocks agree. Keys, per subject id S under the
// prefix P: "P{inferd-rate}:S:requests" and "P{inferd-rate}:S:tokens" (a TAT in microseconds as a
// decimal string, expiring once the budget is full again) and "P{inferd-rate}:S:slots" (a sorted
// set of concurrency slots scored by their expiry: a slot that its server never released, because
// the server crashed, lapses after slot_ttl). A request that outlives slot_ttl loses its slot
// early, so slot_ttl should exceed the longest request. On a Redis Cluster (options.cluster) the
// common hash tag {inferd-rate} puts every key in one slot, so a script over the service and key
// subjects runs on one node (all rate state lives on that slot's master).
//
// Failures: an unreachable Redis (connect or I/O error, timeout) fails the call with kIo, drops
// the connection, and for retry_interval every call fails at once without touching the network,
// so a dead Redis costs one timeout per interval, not one per request (on a cluster: per node,
// see RedisClusterClient).
// Thread safety: one hiredis connection guarded by a mutex (a cluster: RedisClusterClient's).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/ratelimit/rate_store.h"
#include "server/sessions/redis_cluster_client.h"
#include "server/sessions/redis_kv_store.h"

struct redisContext;

namespace inferd::server::ratelimit {

struct RedisRateStoreOptions {
  sessions::RedisAddress address;                        // unless `cluster` is set
  std::optional<sessions::RedisClusterOptions> cluster;  // a Redis Cluster (timeouts from here)
  std::string key_prefix = "inferd:ratelimit:";
  std::chrono::milliseconds timeout{250};  // connect and each command
  std::chrono::milliseconds retry_interval{5'000};
  std::chrono::milliseconds slot_ttl{600'000};
};

class RedisRateStore : public RateStore {
 public:
  // Connects on first use (see connect()).
  explicit RedisRateStore(RedisRateStoreOptions options);
  ~RedisRateStore() override;

  // Connects now and loads the scripts, unless connected. Errors: Redis unreachable or refusing
  // (kIo; the store then waits retry_interval before its next attempt).
  Status connect();

  Result<RateVerdict> admit(std::span<const RateSubject> subjects,
                            std::string_view slot_id) override;
  Status release(std::span<const std::string> subject_ids, std::string_view slot_id) override;
  Status charge_tokens(std::span<const RateSubject> subjects, uint64_t tokens) override;

  std::string describe() const;

 private:
  struct Script;

  // Runs `script` with `keys` and `args`; returns its reply as integers (an array of them, or one).
  Result<std::vector<int64_t>> run(Script& script, const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args);
  // REQUIRES: mu_ held.
  Status ensure_connected_locked();
  Status connect_locked();
  Status fail_locked(Status status);
  Result<std::vector<int64_t>> run_on_cluster(Script& script, const std::vector<std::string>& keys,
                                              const std::vector<std::string>& args);
  std::string key(const std::string& subject_id, const char* what) const;

  const RedisRateStoreOptions options_;
  std::mutex mu_;
  redisContext* ctx_ = nullptr;
  std::shared_ptr<sessions::RedisClusterClient> cluster_;  // once connected to a cluster
  std::chrono::steady_clock::time_point down_until_{};
  std::unique_ptr<Script> admit_script_, release_script_, charge_script_;
};

}  // namespace inferd::server::ratelimit

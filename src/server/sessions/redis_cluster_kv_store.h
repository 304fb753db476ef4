// RedisClusterKvStore: KvStore on a Redis Cluster (redis+cluster:// URLs), for sessions shared
// by several servers on a sharded Redis.
//
// Values are plain strings under their keys, as with RedisKvStore; expiry is Redis's own, so
// sweep() has nothing to do. Reads go to each key's master (get_many pipelines per node). A
// commit is one Lua script on the master of its keys' slot that checks every expectation and
// applies every write, so it is atomic; it requires all of a commit's keys (expectations and
// writes) to be in one hash slot, which the session layout ensures with hash tags (a commit whose
// keys span slots fails with kInternal and writes nothing). keys() SCANs every master.
// Thread safety: every method may be called from any thread (RedisClusterClient serialises).
#pragma once

#include <memory>
#include <string>

#include "server/sessions/kv_store.h"
#include "server/sessions/redis_cluster_client.h"

namespace inferd::server::sessions {

class RedisClusterKvStore : public KvStore {
 public:
  // Reads the cluster's slot map (see RedisClusterClient::open).
  static Result<std::shared_ptr<RedisClusterKvStore>> open(RedisClusterOptions options);

  Result<std::optional<std::string>> get(const std::string& key) override;
  Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override;
  Result<bool> commit(const std::vector<KvExpect>& expect,
                      const std::vector<KvWrite>& writes) override;
  Result<std::vector<std::string>> keys(const std::string& prefix) override;
  Result<int64_t> sweep() override { return int64_t{0}; }
  std::string describe() const override;

 private:
  explicit RedisClusterKvStore(std::shared_ptr<RedisClusterClient> client)
      : client_(std::move(client)) {}

  const std::shared_ptr<RedisClusterClient> client_;
};

}  // namespace inferd::server::sessions

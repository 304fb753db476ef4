#include "server/sessions/kv_store.h"

#include <chrono>

#include "server/sessions/memory_kv_store.h"
#include "server/sessions/redis_cluster_kv_store.h"
#include "server/sessions/redis_kv_store.h"
#include "server/sessions/sqlite_kv_store.h"

namespace inferd::server::sessions {

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::shared_ptr<KvStore>> open_kv_store(const std::string& url) {
  if (url == "memory") return std::shared_ptr<KvStore>(std::make_shared<MemoryKvStore>());
  if (url.rfind("sqlite:", 0) == 0) {
    INFERD_ASSIGN_OR_RETURN(auto store, SqliteKvStore::open(url.substr(7)));
    return std::shared_ptr<KvStore>(std::move(store));
  }
  if (url.rfind("redis://", 0) == 0) {
    INFERD_ASSIGN_OR_RETURN(RedisAddress address, parse_redis_url(url));
    INFERD_ASSIGN_OR_RETURN(auto store, RedisKvStore::open(address));
    return std::shared_ptr<KvStore>(std::move(store));
  }
  if (is_redis_cluster_url(url)) {
    INFERD_ASSIGN_OR_RETURN(RedisClusterOptions options, parse_redis_cluster_url(url));
    INFERD_ASSIGN_OR_RETURN(auto store, RedisClusterKvStore::open(std::move(options)));
    return std::shared_ptr<KvStore>(std::move(store));
  }
  return invalid_argument(
      "unknown session store '{}' (memory, sqlite:PATH, redis://host:port[/db], "
      "redis+cluster://host:port[,host:port...])",
      url);
}

}  // namespace inferd::server::sessions

// MemoryKvStore: KvStore in this process's memory (tests, single-process deployments that
// accept losing sessions on restart). One mutex guards the map.
#pragma once

#include <map>
#include <mutex>

#include "server/sessions/kv_store.h"

namespace inferd::server::sessions {

class MemoryKvStore : public KvStore {
 public:
  Result<std::optional<std::string>> get(const std::string& key) override;
  Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override;
  Result<bool> commit(const std::vector<KvExpect>& expect,
                      const std::vector<KvWrite>& writes) override;
  Result<std::vector<std::string>> keys(const std::string& prefix) override;
  Result<int64_t> sweep() override;
  std::string describe() const override { return "memory"; }

 private:
  struct Entry {
    std::string value;
    int64_t expires_at_ms = 0;
  };
  // The live entry of `key`, or nullptr. REQUIRES: mu_ held.
  const Entry* live(const std::string& key, int64_t now_ms) const;

  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace inferd::server::sessions

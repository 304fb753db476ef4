#include "server/sessions/memory_kv_store.h"

namespace inferd::server::sessions {

const MemoryKvStore::Entry* MemoryKvStore::live(const std::string& key, int64_t now_ms) const {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (it->second.expires_at_ms != 0 && it->second.expires_at_ms <= now_ms) return nullptr;
  return &it->second;
}

Result<std::optional<std::string>> MemoryKvStore::get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = live(key, unix_now_ms());
  if (!e) return std::optional<std::string>();
  return std::optional<std::string>(e->value);
}

Result<std::vector<std::optional<std::string>>> MemoryKvStore::get_many(
    const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = unix_now_ms();
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const auto& k : keys) {
    const Entry* e = live(k, now);
    out.push_back(e ? std::optional<std::string>(e->value) : std::nullopt);
  }
  return out;
}

Result<bool> MemoryKvStore::commit(const std::vector<KvExpect>& expect,
                                   const std::vector<KvWrite>& writes) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = unix_now_ms();
  for (const auto& x : expect) {
    const Entry* e = live(x.key, now);
    if (x.value.has_value() != (e != nullptr)) return false;
    if (e && e->value != *x.value) return false;
  }
  for (const auto& w : writes) {
    switch (w.op) {
      case KvWrite::Op::kPut: entries_[w.key] = Entry{w.value, w.expires_at_ms}; break;
      case KvWrite::Op::kErase: entries_.erase(w.key); break;
      case KvWrite::Op::kExpire:
        if (live(w.key, now)) entries_[w.key].expires_at_ms = w.expires_at_ms;
        break;
    }
  }
  return true;
}

Result<std::vector<std::string>> MemoryKvStore::keys(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = unix_now_ms();
  std::vector<std::string> out;
  for (auto it = entries_.lower_bound(prefix);
       it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    if (live(it->first, now)) out.push_back(it->first);
  return out;
}

Result<int64_t> MemoryKvStore::sweep() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = unix_now_ms();
  int64_t removed = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires_at_ms != 0 && it->second.expires_at_ms <= now) {
      it = entries_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace inferd::server::sessions

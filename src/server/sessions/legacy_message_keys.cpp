#include "server/sessions/legacy_message_keys.h"

#include <charconv>
#include <map>

#include "server/sessions/session_record.h"

namespace inferd::server::sessions {
namespace {

constexpr std::string_view kMessagePrefix = "session_messages:";
constexpr int kMaxAttempts = 8;  // per session, when its record changes during the move

// The session id and index of a legacy message key; false for current keys and other entries.
bool parse_legacy(std::string_view key, std::string* id, int64_t* index) {
  key.remove_prefix(kMessagePrefix.size());
  if (key.empty() || key.front() == '{') return false;
  const auto colon = key.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view digits = key.substr(colon + 1);
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *index);
  if (ec != std::errc() || p != digits.data() + digits.size() || *index < 0) return false;
  *id = std::string(key.substr(0, colon));
  return true;
}

// Moves one session's legacy messages; false when its record changed meanwhile.
Result<bool> move_session(KvStore& store, const std::string& id,
                          const std::vector<int64_t>& indices, int64_t* moved) {
  INFERD_ASSIGN_OR_RETURN(auto raw, store.get(record_key(id)));
  std::vector<std::string> legacy;
  for (int64_t i : indices) legacy.push_back(legacy_message_key(id, i));
  std::vector<KvExpect> expect = {{record_key(id), raw}};
  std::vector<KvWrite> writes;
  if (raw) {
    INFERD_ASSIGN_OR_RETURN(SessionRecord r, record_from_json(Json::parse(*raw, nullptr, false)));
    INFERD_ASSIGN_OR_RETURN(auto values, store.get_many(legacy));
    for (size_t k = 0; k < indices.size(); ++k)
      if (values[k] && indices[k] < r.message_count)
        writes.push_back(KvWrite::put(message_key(id, indices[k]), *values[k], r.expires_at_ms));
  }
  const auto num_moved = static_cast<int64_t>(writes.size());
  for (const std::string& k : legacy) writes.push_back(KvWrite::erase(k));
  INFERD_ASSIGN_OR_RETURN(bool done, store.commit(expect, writes));
  if (done) *moved += num_moved;
  return done;
}

}  // namespace

Result<int64_t> migrate_legacy_message_keys(KvStore& store) {
  INFERD_ASSIGN_OR_RETURN(auto keys, store.keys(std::string(kMessagePrefix)));
  std::map<std::string, std::vector<int64_t>> by_session;
  for (const std::string& k : keys) {
    std::string id;
    int64_t index = 0;
    if (parse_legacy(k, &id, &index)) by_session[id].push_back(index);
  }
  int64_t moved = 0;
  for (const auto& [id, indices] : by_session) {
    bool done = false;
    for (int attempt = 0; attempt < kMaxAttempts && !done; ++attempt) {
      INFERD_ASSIGN_OR_RETURN(done, move_session(store, id, indices, &moved));
    }
    if (!done) return internal_error("session '{}' kept changing while its messages moved", id);
  }
  return moved;
}

}  // namespace inferd::server::sessions

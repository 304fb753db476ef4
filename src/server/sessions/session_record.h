// SessionRecord: one conversation's metadata, stored as JSON under "session:{id}".
//
// The first eight fields are chuk-sessions' SessionMetadata (session_id, sandbox_id, user_id,
// created_at, expires_at, last_accessed, status, custom_metadata; ISO-8601 UTC times), so its
// readers can use the records; the rest are inferd's. The messages live under
// message_key(id, index) for index in [0, message_count), each a JSON object (see
// session_service.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "server/api/json_body.h"

namespace inferd::server::sessions {

struct SessionRecord {
  std::string session_id;
  std::string sandbox_id;  // the owning service ("default" for the anonymous one)
  std::string user_id;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;  // 0: never
  int64_t last_accessed_ms = 0;
  std::string status = "active";
  Json custom_metadata = Json::object();

  std::string service;  // the owning service; "" = anonymous (no access control configured)
  int64_t version = 1;  // +1 on every change (turn, update); the ETag
  int64_t message_count = 0;
  int64_t ttl_s = 0;  // the lifetime it is renewed to; 0 = never expires
  std::optional<std::string> system_prompt;
  std::string template_name;         // "" = none
  Json parameters = Json::object();  // generation defaults applied to its chat turns
  std::string parent_session_id;     // "" = not a branch
  int64_t parent_message_count = 0;  // a branch: messages copied from the parent
  // A summary of the oldest messages [0, summary_message_count), which chat turns send in their
  // place (see chat_session_turn.h); "" = none. The messages themselves stay stored.
  std::string summary;
  int64_t summary_message_count = 0;
};

Json record_json(const SessionRecord& r);
// Errors name the field (an imported or corrupt record).
Result<SessionRecord> record_from_json(const Json& j);

// Every key of one session carries the record key as its Redis Cluster hash tag, so a session's
// record, messages and usage counters share one slot and a turn commits atomically on a cluster.
std::string record_key(std::string_view session_id);  // "session:ID"
// "session_messages:{session:ID}:00000042" (before the hash tag: "session_messages:ID:00000042").
std::string message_key(std::string_view session_id, int64_t index);
// The message key of the layout before hash tags, still read by migrate_legacy_message_keys().
std::string legacy_message_key(std::string_view session_id, int64_t index);
inline constexpr std::string_view kRecordPrefix = "session:";

// 32 lowercase hex characters from a CSPRNG (OpenSSL RAND_bytes).
Result<std::string> new_session_id();
// Client-chosen ids: 1-128 of A-Z a-z 0-9 . _ - (not starting with '.'), and none of the
// route words "usage", "templates", "import".
bool valid_session_id(std::string_view id);

}  // namespace inferd::server::sessions

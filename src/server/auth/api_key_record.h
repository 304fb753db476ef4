// ApiKeyRecord: what the server keeps about an API key (never the key itself: its hash).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/auth/scope_set.h"

namespace inferd::server::auth {

// Per-minute and concurrency limits; 0 = no limit of that kind.
struct KeyLimits {
  int64_t requests_per_minute = 0;
  int64_t tokens_per_minute = 0;  // prompt + completion tokens
  int64_t concurrent = 0;
  bool operator==(const KeyLimits&) const = default;
};

struct ApiKeyRecord {
  std::string id;       // the key's public id (api_key.h)
  std::string prefix;   // e.g. "vista_"
  std::string hash;     // "sha256:<hex>"
  std::string service;  // the service the key acts for
  std::string name;     // a label for people ("billing backend, prod")
  ScopeSet scopes;
  KeyLimits limits;
  int64_t created_at = 0;  // Unix seconds
  int64_t expires_at = 0;  // Unix seconds; 0 = never
  int64_t revoked_at = 0;  // Unix seconds; 0 = not revoked
  std::string rotated_from;  // the key this one replaced
  std::string replaced_by;   // the key that replaced this one (it expires at its rotation deadline)
  bool from_config = false;  // listed in the configuration file (read-only)

  // Why the key cannot be used at `now_s`, or nullopt when it can.
  std::optional<std::string> refusal(int64_t now_s) const;
  std::string display_name() const;
};

// JSON as stored and as the admin API shows it (with the hash only when `with_hash`).
nlohmann::ordered_json api_key_record_json(const ApiKeyRecord& record, bool with_hash);
// Errors: malformed JSON or a missing/mistyped field (kDataLoss: a damaged store).
Result<ApiKeyRecord> api_key_record_from_json(std::string_view json);

}  // namespace inferd::server::auth

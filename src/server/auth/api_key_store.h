// ApiKeyStore: API keys kept in a key/value store (sessions/kv_store.h): an SQLite file by
// default, Redis (or a Redis Cluster) when several servers share their keys. One JSON record per
// key under "apikey:<id>" (api_key_record.h); revoked and expired keys stay, so lists and audits
// can name them. Every change is a conditional commit of one record (a rotation: two, see
// rotate()), so two administrators never lose each other's change, and `inferd keys` may change the
// file while a server uses it (the server reads the record on every request, so a revocation holds
// from the next request).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/auth/api_key_record.h"
#include "server/sessions/kv_store.h"

namespace inferd::server::auth {

// What a new key is made of.
struct KeySpec {
  std::string service;  // required
  std::string name;
  std::string prefix = "inferd_";
  ScopeSet scopes = default_key_scopes();
  KeyLimits limits;
  int64_t expires_at = 0;  // Unix seconds; 0 = never
};

// A key just made: its record and the whole key (shown once).
struct IssuedKey {
  ApiKeyRecord record;
  std::string key;
};

class ApiKeyStore {
 public:
  // `now_s` tells Unix seconds (tests move it).
  explicit ApiKeyStore(std::shared_ptr<sessions::KvStore> kv, std::function<int64_t()> now_s = {});
  // Opens the store a URL names (sessions/kv_store.h: sqlite:PATH, redis://..., memory).
  static Result<std::shared_ptr<ApiKeyStore>> open(const std::string& url);

  // Errors: an empty service, no scope, a bad prefix or limit, an expiry in the past.
  Result<IssuedKey> create(const KeySpec& spec);
  Result<std::optional<ApiKeyRecord>> find(const std::string& id);
  // Every key (of one service when `service` is not empty), oldest first.
  Result<std::vector<ApiKeyRecord>> list(const std::string& service = {});
  // A new key with the old one's service, scopes, limits and prefix; the old one keeps working
  // until now + grace_s (or its own earlier expiry). Errors: unknown, revoked or expired key; the
  // old key changed meanwhile (then the new key is removed again, and nothing has changed).
  Result<IssuedKey> rotate(const std::string& id, int64_t grace_s);
  // Marks the key revoked (idempotent). Errors: unknown key.
  Result<ApiKeyRecord> revoke(const std::string& id);

  std::string describe() const { return kv_->describe(); }
  int64_t now_s() const { return now_s_(); }

 private:
  Result<std::pair<ApiKeyRecord, std::string>> load(const std::string& id);
  Status check_spec(const KeySpec& spec) const;
  Result<IssuedKey> issue(const KeySpec& spec, const std::string& rotated_from);

  std::shared_ptr<sessions::KvStore> kv_;
  std::function<int64_t()> now_s_;
};

}  // namespace inferd::server::auth

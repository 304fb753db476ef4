// AccessControl: the server's authenticator (HttpServerOptions::authenticate). It names the
// caller of every routed request (service and key id) or refuses it:
//   - public paths (options.public_paths, "/health" by default) pass anonymously;
//   - every other route needs a credential: `Authorization: Bearer <key>` or `X-API-Key: <key>`;
//     missing or unknown keys, revoked and expired ones get 401 (with WWW-Authenticate);
//   - a valid key without the route's scope (AuthScope; admin grants every scope) gets 403.
// Keys come from the configuration (hashes only, read-only) and from an ApiKeyStore; a key id
// listed in both is the configuration's. The store is read on every request, so a revocation
// made by another process holds from the next request.
//
// Thread safety: authenticate() may run on any number of threads at once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "server/auth/api_key_record.h"
#include "server/auth/api_key_store.h"
#include "server/http/caller.h"

namespace inferd::server::auth {

struct AccessOptions {
  std::vector<std::string> public_paths = {"/health"};  // exact paths that need no credential
  std::vector<ApiKeyRecord> config_keys;
  std::shared_ptr<ApiKeyStore> key_store;  // optional
  std::map<std::string, std::string> key_prefixes;  // service -> prefix of its new keys
  std::function<int64_t()> now_s;          // Unix seconds; default: the system clock
};

class AccessControl {
 public:
  // Errors: two configured keys with one id, a configured key with a malformed hash.
  static Result<std::shared_ptr<AccessControl>> create(AccessOptions options);

  std::variant<Caller, ApiError> authenticate(const Request& request) const;
  // An Authenticator that calls authenticate() on a shared instance.
  static Authenticator authenticator(std::shared_ptr<const AccessControl> access);

  ApiKeyStore* key_store() const { return options_.key_store.get(); }
  // The prefix of `service`'s new keys (key_prefixes, else "inferd_").
  std::string key_prefix(const std::string& service) const;
  // Every configured key (of one service when `service` is not empty).
  std::vector<ApiKeyRecord> config_keys(const std::string& service = {}) const;
  // The key with this id (configuration first, then the store), or nullopt.
  Result<std::optional<ApiKeyRecord>> find_key(const std::string& id) const;

 private:
  explicit AccessControl(AccessOptions options);
  bool is_public(const Request& request) const;

  AccessOptions options_;
  std::unordered_map<std::string, size_t> config_key_index_;  // id -> options_.config_keys[i]
};

}  // namespace inferd::server::auth

// AccessControl: the server's authenticator (HttpServerOptions::authenticate). It names the
// caller of every routed request (service and key id) or refuses it:
//   - public paths (options.public_paths, "/health" by default) pass anonymously;
//   - every other route needs a credential, one of:
//       an API key: `Authorization: Bearer <key>` or `X-API-Key: <key>`;
//       a bearer JWT from the configured OIDC issuer (oidc_verifier.h: its service and scopes
//       come from its claims);
//       a verified TLS client certificate whose subject is listed in client_certs (service-to-
//       service calls without keys);
//     missing or unknown credentials, revoked and expired keys, invalid tokens get 401 (with
//     WWW-Authenticate);
//   - a valid key without the route's scope (AuthScope; admin grants every scope) gets 403;
//   - then the rate limits of the key's service and of the key itself (ratelimit/rate_limiter.h)
//     admit the request, or it gets 429 with Retry-After and X-RateLimit-* headers; admitted
//     requests carry those headers and hold their concurrency slots until they end. As the
//     server's observer, it charges each finished request's prompt + completion tokens.
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
#include "server/auth/oidc_verifier.h"
#include "server/http/caller.h"
#include "server/http/exchange_observer.h"
#include "server/ratelimit/rate_limiter.h"

namespace inferd::server::auth {

// A TLS client certificate subject (RFC 2253, e.g. "CN=vista-backend,O=Example") acting for a
// service.
struct ClientCertIdentity {
  std::string subject;
  std::string service;
  ScopeSet scopes = default_key_scopes();
};

struct AccessOptions {
  std::vector<std::string> public_paths = {"/health"};  // exact paths that need no credential
  std::vector<ApiKeyRecord> config_keys;
  std::shared_ptr<ApiKeyStore> key_store;  // optional
  std::map<std::string, std::string> key_prefixes;  // service -> prefix of its new keys
  std::map<std::string, KeyLimits> service_limits;  // service -> limits of all its keys together
  std::shared_ptr<ratelimit::RateLimiter> limiter;  // null: no rate limits
  std::shared_ptr<OidcVerifier> oidc;               // null: bearer JWTs are refused
  std::vector<ClientCertIdentity> client_certs;
  std::function<int64_t()> now_s;          // Unix seconds; default: the system clock
};

class AccessControl : public ExchangeObserver {
 public:
  // Errors: two configured keys with one id, a configured key with a malformed hash.
  static Result<std::shared_ptr<AccessControl>> create(AccessOptions options);

  std::variant<Caller, ApiError> authenticate(const Request& request) const;
  // Charges the request's tokens to its service's and key's budgets.
  void on_exchange_end(const ExchangeRecord& record) override;
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
  // Who a credential speaks for, before the route's scope and the rate limits are checked.
  struct Identity {
    std::string service;
    std::string key_id;     // the caller's key_id: a key's id, "jwt:...", "cert:<subject>"
    std::string described;  // "The API key 'vista_ab..._...'", for messages
    ScopeSet scopes;
    KeyLimits limits;  // the credential's own limits (keys only)
  };
  std::variant<Identity, ApiError> identify_key(std::string_view credential) const;
  std::variant<Identity, ApiError> identify_token(std::string_view token) const;
  std::optional<Identity> identify_certificate(const Request& request) const;
  bool is_public(const Request& request) const;
  // The rate-limit parties of a caller of `service` with key limits `key_limits`.
  std::vector<ratelimit::RateSubject> rate_subjects(const std::string& service, const std::string& key_id,
                                                   const KeyLimits& key_limits) const;

  AccessOptions options_;
  std::unordered_map<std::string, size_t> config_key_index_;  // id -> options_.config_keys[i]
};

}  // namespace inferd::server::auth

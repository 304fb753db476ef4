// OidcVerifier: accepts bearer JWTs issued by one OpenID Connect / OAuth2 issuer (RS256 or ES256,
// signed by a key of the issuer's JWKS) and says whom they speak for.
//
// Keys: create() reads the discovery document (unless OidcOptions::jwks_uri is set; its "issuer"
// must equal the configured issuer and it must name a "jwks_uri") and the JWKS, and fails when
// either cannot be fetched or is invalid, so a misconfigured issuer stops the server at start.
// Afterwards the JWKS is fetched again when a token names a kid the cached set lacks, or when the
// cached set is older than jwks_max_age_s; such fetches start at most once per
// jwks_min_refetch_s (tokens with made-up kids cost at most one fetch per interval), and a fetch
// that fails or returns an invalid set keeps the cached keys.
//
// Blocking: a refetch runs on the thread calling verify() (an I/O thread of the server) and
// blocks it for at most http_timeout_ms; it happens at most once per jwks_min_refetch_s across
// all threads, and other threads never wait for it (they use the keys cached meanwhile).
//
// Thread safety: verify() may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"
#include "server/auth/json_fetcher.h"
#include "server/auth/jwk_set.h"
#include "server/auth/oidc_options.h"
#include "server/auth/token_identity.h"

namespace inferd::server::auth {

// Largest discovery or JWKS document fetched, in bytes.
inline constexpr size_t kMaxOidcDocumentBytes = kMaxJwksBytes;

class OidcVerifier {
 public:
  // Unix time in seconds; injectable for tests.
  using Clock = std::function<int64_t()>;

  // Validates `options` (issuer and jwks_uri URLs per check_fetch_url(), at least one audience,
  // non-empty claim names, non-negative leeway and intervals, a positive timeout) and loads the
  // keys. `fetch` defaults to curl_json_fetcher(options.http_timeout_ms, kMaxOidcDocumentBytes);
  // `clock` to the system clock. Errors: kInvalidArgument for options and documents, kIo when a
  // document cannot be fetched.
  static Result<std::unique_ptr<OidcVerifier>> create(OidcOptions options, JsonFetcher fetch = {},
                                                      Clock clock = {});

  // Verifies `compact_jwt` (the bearer token without "Bearer "): its structure, an accepted
  // algorithm equal to its key's, the signature, then the claims (token_claims.h). Any error
  // (kInvalidArgument, or kIo/kUnsupported in the message's words) means the token is refused,
  // with a message that is safe to log and to show the client.
  Result<TokenIdentity> verify(std::string_view compact_jwt);

  // The URL keys are fetched from (discovered or configured).
  const std::string& jwks_uri() const { return jwks_uri_; }

 private:
  OidcVerifier(OidcOptions options, JsonFetcher fetch, Clock clock);
  Status discover();
  Status fetch_keys();
  // The cached keys, refetched first when they are stale or lack (kid, alg) and the refetch
  // interval allows. Never null once create() succeeded.
  std::shared_ptr<const JwkSet> keys_for(std::string_view kid, std::string_view alg, int64_t now_s);

  const OidcOptions options_;
  const JsonFetcher fetch_;
  const Clock clock_;
  std::string jwks_uri_;  // set once by create()

  std::mutex mu_;  // guards the members below
  std::shared_ptr<const JwkSet> keys_;
  int64_t keys_fetched_s_ = 0;      // when keys_ was fetched
  int64_t last_fetch_start_s_ = 0;  // when the last fetch (successful or not) started
};

}  // namespace inferd::server::auth

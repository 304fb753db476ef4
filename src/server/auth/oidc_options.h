// OidcOptions: how bearer JWTs from one OpenID Connect / OAuth2 issuer are accepted (see
// oidc_verifier.h). URLs are https, or http on a loopback host (127.0.0.1, [::1], localhost) only.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace inferd::server::auth {

struct OidcOptions {
  // Must equal the token's `iss` exactly; discovery reads <issuer>/.well-known/openid-configuration
  // (a trailing '/' of the issuer is dropped before the suffix).
  std::string issuer;
  // Optional: the JWKS URL, skipping discovery.
  std::string jwks_uri;
  // Required, not empty: the token's `aud` (a string or an array) must contain one of them.
  std::vector<std::string> audiences;
  // The claim (a string) naming the caller's service ...
  std::string service_claim = "azp";
  // ... mapped through this table (claim value -> service). Empty: the claim value is the
  // service; otherwise a value missing from the table is refused.
  std::map<std::string, std::string> services;
  // The claim holding the scopes: a space-separated string ("scope") or an array ("scp").
  std::string scope_claim = "scope";
  // Scopes count only with this prefix, which is removed ("inferd:" makes "inferd:inference"
  // grant inference). Scopes the server does not know are ignored.
  std::string scope_prefix;
  int leeway_s = 60;            // clock skew allowed for exp, nbf and iat
  int jwks_min_refetch_s = 30;  // keys are fetched at most once per this interval
  int jwks_max_age_s = 3600;    // keys older than this are refetched on the next token
  int http_timeout_ms = 2000;   // whole-request deadline of each discovery or JWKS fetch
};

}  // namespace inferd::server::auth

// Claims checks and mapping of a bearer JWT whose signature is already verified.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/auth/oidc_options.h"
#include "server/auth/token_identity.h"

namespace inferd::server::auth {

// Checks the claims of `payload` at `now_s` (Unix seconds) and maps them to an identity:
//   iss equals options.issuer; aud (string or array of strings) contains one of
//   options.audiences; exp is required and now_s < exp + leeway_s; nbf, when present,
//   nbf <= now_s + leeway_s; iat, when present, is not after now_s + leeway_s (times are JSON
//   numbers); the service claim is a non-empty string (at most 128 bytes), mapped through
//   options.services when that table is not empty (an unmapped value is refused); the scope
//   claim, when present, is a space-separated string or an array of strings; only scopes
//   carrying options.scope_prefix count, and of those only the names of the non-public
//   AuthScope route tags (after the prefix).
// Errors are kInvalidArgument with a message naming the claim; a token without any known scope
// is still an identity (the caller answers 403 per route).
Result<TokenIdentity> identity_from_claims(const nlohmann::json& payload,
                                           const OidcOptions& options, int64_t now_s);

}  // namespace inferd::server::auth

// Jwt: a parsed (not yet verified) JWS in compact serialization, "<header>.<payload>.<signature>"
// with each part base64url-encoded without padding (RFC 7515 section 7.1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace inferd::server::auth {

// Longest compact token accepted, in bytes.
inline constexpr size_t kMaxJwtBytes = 16 << 10;

struct Jwt {
  nlohmann::json header;      // a JSON object
  nlohmann::json payload;     // a JSON object (the claims)
  std::string alg;            // header "alg"
  std::string kid;            // header "kid"; empty when absent
  std::string signing_input;  // "<header>.<payload>" as received: the bytes the signature covers
  std::string signature;      // decoded signature bytes
};

// True when `token` has the shape of a compact JWS (three non-empty parts of base64url characters
// separated by '.'): how an authenticator tells a bearer JWT from an API key before verifying it.
bool looks_like_jwt(std::string_view token);

// Parses `compact`. Errors (kInvalidArgument): over kMaxJwtBytes, not three non-empty parts,
// malformed base64url, a header or payload that is not a JSON object, an `alg` that is missing
// or not a string, a `kid` that is not a string, or a `crit` header (no extension is understood).
Result<Jwt> parse_jwt(std::string_view compact);

}  // namespace inferd::server::auth

// Base64url (RFC 4648 section 5) without padding, as JWS compact serialization uses it.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace inferd::server::auth {

// Encodes `bytes` with the URL-safe alphabet and no '=' padding.
std::string base64url_encode(std::string_view bytes);

// Decodes strictly: only [A-Za-z0-9_-], no padding, no whitespace, a length that is not 1 mod 4,
// and zero unused bits in the last character (so each byte string has exactly one encoding).
// Errors are kInvalidArgument.
Result<std::string> base64url_decode(std::string_view text);

}  // namespace inferd::server::auth

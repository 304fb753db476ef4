// JwsAlgorithm: the table of JWS signature algorithms accepted for bearer tokens. Only public-key
// algorithms are listed (RS256, ES256): "none", HMAC ("HS256", which would let a public key act
// as a shared secret) and every other name are refused by their absence.
#pragma once

#include <string_view>

#include <openssl/evp.h>

namespace inferd::server::auth {

struct JwsAlgorithm {
  std::string_view name;  // the JWS "alg" value
  int evp_key_type;       // EVP_PKEY_RSA or EVP_PKEY_EC: the keys it verifies with
  // True when `signature` (in its JWS encoding) signs `signing_input` under `key`.
  // REQUIRES: key's type is evp_key_type. Thread-safe for a shared key.
  bool (*verify)(EVP_PKEY* key, std::string_view signing_input, std::string_view signature);
};

// The row for `name` (case-sensitive, as RFC 7518 defines the names), or nullptr.
const JwsAlgorithm* find_jws_algorithm(std::string_view name);

}  // namespace inferd::server::auth

// JwkSet: the public signing keys of a JSON Web Key Set (RFC 7517), by key id and algorithm.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

#include "base/status.h"

namespace inferd::server::auth {

// Most entries a JWKS document may list, and its largest size in bytes.
inline constexpr size_t kMaxJwkCount = 64;
inline constexpr size_t kMaxJwksBytes = 256 << 10;

struct Jwk {
  std::string kid;                // may be empty
  std::string alg;                // the one JWS algorithm the key verifies: "RS256" or "ES256"
  std::shared_ptr<EVP_PKEY> key;  // public key, immutable once built (shareable across threads)
};

class JwkSet {
 public:
  // Builds the set from a JWKS document {"keys":[...]}. Usable keys are RSA (n, e; modulus of
  // 2048 to 8192 bits; RS256) and EC on P-256 (x, y; ES256). A key is skipped, not fatal, when
  // its kty or curve is not supported, its "use" is not "sig", its "key_ops" lack "verify", or
  // its "alg" is not the one its type verifies, or its parameters are malformed or invalid (a
  // point off the curve, a short modulus). Errors (kInvalidArgument): the document is over
  // kMaxJwksBytes, not JSON, has no "keys" array, lists more than kMaxJwkCount entries or an
  // entry that is not an object, or no key is usable (naming the first refused key's reason).
  static Result<JwkSet> parse(std::string_view json_text);

  // The key with this kid for this algorithm, or nullptr. An empty `kid` (a token without one)
  // finds the algorithm's key only when the set holds exactly one key for it.
  const Jwk* find(std::string_view kid, std::string_view alg) const;

  const std::vector<Jwk>& keys() const { return keys_; }

 private:
  std::vector<Jwk> keys_;
};

}  // namespace inferd::server::auth

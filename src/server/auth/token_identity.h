// TokenIdentity: who a verified bearer JWT speaks for.
#pragma once

#include <string>
#include <vector>

namespace inferd::server::auth {

struct TokenIdentity {
  std::string service;  // from the service claim, through OidcOptions::services
  std::vector<std::string>
      scopes;           // known scopes only ("inference", "sessions", "admin"), sorted, unique
  std::string subject;  // the token's `sub`; empty when it has none
  // "jwt:<first 8 hex digits of SHA-256(issuer)>:<sub>", with characters outside
  // [A-Za-z0-9._@:-] replaced by '_' and the subject cut at 64 bytes: safe to log, never secret.
  std::string key_id;
};

}  // namespace inferd::server::auth

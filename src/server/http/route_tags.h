// Tags a route carries for the layers above the transport. The transport copies them into each
// Request and never interprets them: authentication reads AuthScope, rate limiting RateClass.
#pragma once

#include <cstdint>

namespace inferd::server {

// Who may call a route.
enum class AuthScope : uint8_t {
  kPublic,     // no credentials (health, readiness)
  kInference,  // keys with the inference scope (generation, embeddings, model listing)
  kSessions,   // keys with the sessions scope (server-side conversations)
  kAdmin,      // keys with the admin scope (model management, KV files, keys)
};

// Which rate-limit budget a call draws from.
enum class RateClass : uint8_t {
  kUnlimited,  // not rate limited (health)
  kLight,      // cheap metadata calls (models, tokenize)
  kInference,  // generation and embeddings
};

const char* auth_scope_name(AuthScope scope);
const char* rate_class_name(RateClass rate_class);

}  // namespace inferd::server

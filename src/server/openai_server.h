// The route table of the OpenAI-compatible API: every endpoint, its method and where it is
// mounted. The OpenAI routes answer under "/v1" and a second, configurable prefix (the ancestor
// product's "/api/v1"); tokenize, detokenize, health and the index answer at the root.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "server/api/api_context.h"
#include "server/http/router.h"

namespace inferd::server {

inline constexpr std::string_view kServerName = "inferd";
inline constexpr std::string_view kServerVersion = "0.1.0";

// Builds the router; handlers share `api` but do not own it: the caller keeps it alive while the
// server runs and destroys it after stopping the server (requests arriving later get 503).
// `api_prefix` ("/api/v1"; empty = none) must be a path such as "/a/b" other than "/v1".
Result<Router> make_openai_router(std::shared_ptr<const ApiContext> api, const std::string& api_prefix);

}  // namespace inferd::server

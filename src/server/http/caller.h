// Caller: who sent a request, as the server's authenticator established it before the handler
// runs. Handlers read it from Request::caller to route models by service and to keep one
// service's data (sessions, keys) from another.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "server/http/error_response.h"

namespace inferd::server {

struct Request;

struct Caller {
  // The service the request acts for; empty when no access control is configured (one anonymous
  // tenant that may use every model).
  std::string service;
  // Public id of the credential (an API key's id, never the key itself); empty without one.
  std::string key_id;
  // Fields added to every response of the request, e.g. X-RateLimit-Remaining.
  HeaderList response_headers{};
  // Held while the request lives and released with it (a rate limiter's concurrency slot).
  std::shared_ptr<const void> hold{};
};

// Runs on an I/O thread for each routed request before its handler: returns the caller, or the
// error to answer instead (401, 403, 429). Must not block. Unset in HttpServerOptions: every
// caller is anonymous.
using Authenticator = std::function<std::variant<Caller, ApiError>(const Request& request)>;

}  // namespace inferd::server

// CorsPolicy: the server's CORS allowlist (HttpServerOptions::cors_allowed_origins).
//
// A request whose Origin is listed (or any Origin when the list holds "*") gets
// Access-Control-Allow-Origin naming that origin, Vary: Origin and Access-Control-Expose-Headers
// (the request id and rate-limit fields). A preflight (OPTIONS with Origin and
// Access-Control-Request-Method on a known path) from such an origin also gets
// Access-Control-Allow-Methods (the path's methods), Access-Control-Allow-Headers (the headers
// the OpenAI clients send: the requested ones among them, else the whole list) and
// Access-Control-Max-Age. Other origins get no CORS fields. No credentials mode: requests
// authenticate with headers, not cookies.
//
// Thread safety: immutable after construction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inferd::server {

class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> allowed_origins);

  bool enabled() const { return any_origin_ || !origins_.empty(); }
  bool allows(std::string_view origin) const;

  // Header lines ("Name: value\r\n...") for a response to a request from `origin`; empty when
  // the origin is not allowed.
  std::string response_fields(std::string_view origin) const;
  // The further lines of a preflight answer from an allowed origin. `allow_methods`: the path's
  // methods ("GET, POST, OPTIONS"); `requested_headers`: Access-Control-Request-Headers.
  std::string preflight_fields(std::string_view allow_methods,
                               std::optional<std::string_view> requested_headers) const;

  static constexpr int kMaxAgeS = 600;

 private:
  bool any_origin_ = false;
  std::vector<std::string> origins_;  // lower case
};

}  // namespace inferd::server

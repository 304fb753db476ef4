// Request: one parsed HTTP request as a handler sees it. Owned by its Exchange
// (Exchange::request()), so it lives as long as the handler keeps the exchange.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/http/caller.h"
#include "server/http/header_map.h"
#include "server/http/param_list.h"
#include "server/http/route_tags.h"
#include "server/tracing/trace_context.h"

namespace inferd::server {

struct Request {
  std::string method;         // as received, case-sensitive: "GET", "POST", ...
  std::string target;         // the raw request-target, e.g. "/v1/models/x%2Fy?limit=2"
  std::string path;           // the raw path of the target (no query), e.g. "/v1/models/x%2Fy"
  std::string route_pattern;  // the matched pattern with its prefix, e.g. "/v1/models/{model}"
  AuthScope auth_scope = AuthScope::kPublic;
  RateClass rate_class = RateClass::kUnlimited;
  ParamList path_params;  // percent-decoded values of the pattern's {name} segments
  ParamList query;        // percent-decoded query parameters ('+' is a space)
  HeaderMap headers;      // case-insensitive lookup
  std::string body;
  std::string client_address;  // IP address of the peer, e.g. "127.0.0.1" or "::1"
  uint16_t client_port = 0;
  bool tls = false;             // the request came over TLS
  std::string tls_server_name;  // the SNI name of its TLS handshake; empty: none (or no TLS)
  // RFC 2253 subject of the client certificate its handshake verified, e.g.
  // "CN=vista-backend,O=Example"; empty: none.
  std::string client_cert_subject;
  std::string request_id;  // also sent back in the X-Request-Id response header
  int http_version = 11;   // 10 for HTTP/1.0, 11 for HTTP/1.1
  std::chrono::steady_clock::time_point received_at{};  // when the whole request was read
  // From the incoming `traceparent` (or a new trace); the response's traceparent names
  // trace.span_id.
  tracing::TraceContext trace;
  // Set by HttpServerOptions::authenticate before the handler runs (anonymous without one).
  Caller caller;

  std::optional<std::string_view> param(std::string_view name) const {
    return path_params.get(name);
  }
  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
};

}  // namespace inferd::server

// TraceContext: the W3C Trace Context (https://www.w3.org/TR/trace-context/) of one request as
// the server sees it: the trace it belongs to, the caller's span (when a valid `traceparent`
// arrived) and the span of the server's own handling, which the response's `traceparent` names.
//
// Sampling is parent-based, always on: a request without a valid traceparent starts a new,
// sampled trace; one with a traceparent keeps the caller's sampled flag.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace inferd::server::tracing {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

struct ParsedTraceparent {
  TraceId trace_id{};
  SpanId parent_id{};
  uint8_t flags = 0;
};

// Parses a traceparent header value. nullopt unless it is well formed: version 00 is exactly
// "00-<32 hex>-<16 hex>-<2 hex>" in lowercase; a later version (not "ff") may carry more after a
// '-'; the trace id and parent id may not be all zeros.
std::optional<ParsedTraceparent> parse_traceparent(std::string_view value);

struct TraceContext {
  TraceId trace_id{};
  SpanId parent_span_id{};  // all zeros: the server span is the trace's root
  SpanId span_id{};         // the server span
  uint8_t flags = 0x01;     // bit 0: sampled

  bool sampled() const { return (flags & 0x01) != 0; }
  bool has_parent() const;
  std::string trace_id_hex() const;
  std::string span_id_hex() const;
  std::string parent_span_id_hex() const;  // empty without a parent
  // "00-<trace id>-<server span id>-<flags>", for the response and outgoing calls.
  std::string traceparent() const;
};

// The context of a request that arrived with `traceparent` (nullopt, or an invalid value: a new
// trace starts).
TraceContext start_server_trace(std::optional<std::string_view> traceparent);

// Random non-zero ids from a per-thread generator.
TraceId new_trace_id();
SpanId new_span_id();

std::string to_hex(const uint8_t* bytes, size_t n);
template <size_t N>
std::string to_hex(const std::array<uint8_t, N>& id) {
  return to_hex(id.data(), N);
}

}  // namespace inferd::server::tracing

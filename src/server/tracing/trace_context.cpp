#include "server/tracing/trace_context.h"

#include <random>

namespace inferd::server::tracing {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase is not allowed
}

// Parses 2*n lowercase hex digits into bytes.
bool parse_hex(std::string_view s, uint8_t* out, size_t n) {
  if (s.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    const int hi = hex_value(s[2 * i]);
    const int lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <size_t N>
bool all_zero(const std::array<uint8_t, N>& a) {
  for (uint8_t b : a)
    if (b != 0) return false;
  return true;
}

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return gen;
}

template <size_t N>
std::array<uint8_t, N> random_id() {
  std::array<uint8_t, N> id{};
  do {
    for (size_t i = 0; i < N; i += 8) {
      const uint64_t r = rng()();
      for (size_t j = 0; j < 8 && i + j < N; ++j) id[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
  } while (all_zero(id));
  return id;
}

}  // namespace

std::string to_hex(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

std::optional<ParsedTraceparent> parse_traceparent(std::string_view v) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
  if (v.size() < 55) return std::nullopt;
  uint8_t version = 0;
  if (!parse_hex(v.substr(0, 2), &version, 1) || version == 0xff) return std::nullopt;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  if (version == 0 && v.size() != 55) return std::nullopt;
  if (v.size() > 55 && v[55] != '-') return std::nullopt;
  ParsedTraceparent p;
  if (!parse_hex(v.substr(3, 32), p.trace_id.data(), 16)) return std::nullopt;
  if (!parse_hex(v.substr(36, 16), p.parent_id.data(), 8)) return std::nullopt;
  if (!parse_hex(v.substr(53, 2), &p.flags, 1)) return std::nullopt;
  if (all_zero(p.trace_id) || all_zero(p.parent_id)) return std::nullopt;
  return p;
}

bool TraceContext::has_parent() const { return !all_zero(parent_span_id); }
std::string TraceContext::trace_id_hex() const { return to_hex(trace_id); }
std::string TraceContext::span_id_hex() const { return to_hex(span_id); }
std::string TraceContext::parent_span_id_hex() const {
  return has_parent() ? to_hex(parent_span_id) : std::string();
}

std::string TraceContext::traceparent() const {
  return "00-" + trace_id_hex() + "-" + span_id_hex() + "-" + to_hex(&flags, 1);
}

TraceContext start_server_trace(std::optional<std::string_view> traceparent) {
  TraceContext c;
  c.span_id = new_span_id();
  if (traceparent) {
    if (auto p = parse_traceparent(*traceparent)) {
      c.trace_id = p->trace_id;
      c.parent_span_id = p->parent_id;
      c.flags = p->flags & 0x01;  // only the sampled flag is defined by version 00
      return c;
    }
  }
  c.trace_id = new_trace_id();
  c.flags = 0x01;
  return c;
}

TraceId new_trace_id() { return random_id<16>(); }
SpanId new_span_id() { return random_id<8>(); }

}  // namespace inferd::server::tracing

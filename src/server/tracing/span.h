// SpanData: one finished span, ready for export (OpenTelemetry's data model: ids, name, kind,
// times in nanoseconds since the Unix epoch, attributes, status).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "server/tracing/trace_context.h"

namespace inferd::server::tracing {

enum class SpanKind : uint8_t { kInternal = 1, kServer = 2, kClient = 3 };  // OTLP's numbering
enum class SpanStatus : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

struct SpanAttribute {
  std::string key;
  std::variant<std::string, int64_t, double, bool> value;
};

struct SpanData {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // all zeros: a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  uint64_t start_unix_ns = 0;
  uint64_t end_unix_ns = 0;
  std::vector<SpanAttribute> attributes;
  SpanStatus status = SpanStatus::kUnset;
  std::string status_message;

  void set(std::string key, std::string value) { attributes.push_back({std::move(key), std::move(value)}); }
  void set(std::string key, const char* value) { attributes.push_back({std::move(key), std::string(value)}); }
  void set(std::string key, int64_t value) { attributes.push_back({std::move(key), value}); }
  void set(std::string key, int value) { attributes.push_back({std::move(key), int64_t{value}}); }
  void set(std::string key, double value) { attributes.push_back({std::move(key), value}); }
  void set(std::string key, bool value) { attributes.push_back({std::move(key), value}); }
};

// A steady-clock instant as nanoseconds since the Unix epoch, through one offset between the
// clocks taken at first use, so that spans of one process order exactly as they happened.
uint64_t to_unix_ns(std::chrono::steady_clock::time_point t);

}  // namespace inferd::server::tracing

// OTLP/HTTP JSON encoding of spans: the body of POST {endpoint}/v1/traces
// (ExportTraceServiceRequest: resourceSpans -> scopeSpans -> spans), per the OTLP specification's
// JSON rules: lowerCamelCase field names, trace and span ids as lowercase hex, enums as numbers,
// 64-bit integers (times, intValue) as decimal strings.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "server/tracing/span.h"

namespace inferd::server::tracing {

struct OtlpResource {
  std::string service_name = "inferd";
  std::string service_version;
  std::vector<SpanAttribute> attributes;  // more resource attributes
};

std::string encode_otlp_json(std::span<const SpanData> spans, const OtlpResource& resource);

}  // namespace inferd::server::tracing

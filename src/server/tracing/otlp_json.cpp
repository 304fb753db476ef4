#include "server/tracing/otlp_json.h"

#include <nlohmann/json.hpp>


namespace inferd::server::tracing {
namespace {

using json = nlohmann::ordered_json;

json attribute_value(const std::variant<std::string, int64_t, double, bool>& v) {
  struct Visitor {
    json operator()(const std::string& s) const { return {{"stringValue", s}}; }
    json operator()(int64_t i) const { return {{"intValue", std::to_string(i)}}; }
    json operator()(double d) const { return {{"doubleValue", d}}; }
    json operator()(bool b) const { return {{"boolValue", b}}; }
  };
  return std::visit(Visitor{}, v);
}

json attributes(const std::vector<SpanAttribute>& attrs) {
  json out = json::array();
  for (const auto& a : attrs) out.push_back({{"key", a.key}, {"value", attribute_value(a.value)}});
  return out;
}

bool is_zero(const SpanId& id) {
  for (uint8_t b : id)
    if (b != 0) return false;
  return true;
}

}  // namespace

uint64_t to_unix_ns(std::chrono::steady_clock::time_point t) {
  using namespace std::chrono;
  // One offset for the whole process, so that spans order exactly as the steady clock does.
  static const nanoseconds offset = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()) -
                                    duration_cast<nanoseconds>(steady_clock::now().time_since_epoch());
  return static_cast<uint64_t>((duration_cast<nanoseconds>(t.time_since_epoch()) + offset).count());
}

std::string encode_otlp_json(std::span<const SpanData> spans, const OtlpResource& resource) {
  json out_spans = json::array();
  for (const SpanData& s : spans) {
    json j = {
        {"traceId", to_hex(s.trace_id)},
        {"spanId", to_hex(s.span_id)},
        {"name", s.name},
        {"kind", static_cast<int>(s.kind)},
        {"startTimeUnixNano", std::to_string(s.start_unix_ns)},
        {"endTimeUnixNano", std::to_string(s.end_unix_ns)},
        {"attributes", attributes(s.attributes)},
    };
    if (!is_zero(s.parent_span_id)) j["parentSpanId"] = to_hex(s.parent_span_id);
    json status = {{"code", static_cast<int>(s.status)}};
    if (!s.status_message.empty()) status["message"] = s.status_message;
    j["status"] = std::move(status);
    out_spans.push_back(std::move(j));
  }
  std::vector<SpanAttribute> res_attrs = {{"service.name", resource.service_name}};
  if (!resource.service_version.empty()) res_attrs.push_back({"service.version", resource.service_version});
  for (const auto& a : resource.attributes) res_attrs.push_back(a);
  const json body = {
      {"resourceSpans",
       json::array({{{"resource", {{"attributes", attributes(res_attrs)}}},
                     {"scopeSpans", json::array({{{"scope", {{"name", "inferd"}, {"version", resource.service_version}}},
                                                  {"spans", std::move(out_spans)}}})}}})},
  };
  // Invalid UTF-8 (a client-supplied path, say) is replaced rather than failing the batch.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace inferd::server::tracing

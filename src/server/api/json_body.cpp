#include "server/api/json_body.h"

#include <cmath>

#include <fmt/format.h>

namespace inferd::server {
namespace {

// Maximum nesting of arrays and objects in `text`, ignoring brackets inside strings; stops
// counting once `limit` is exceeded.
int json_depth(std::string_view text, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > limit) return max_depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace

Result<Json> parse_json_object(std::string_view body) {
  if (body.empty()) return invalid_argument("the request body is empty; a JSON object is expected");
  if (json_depth(body, kMaxJsonDepth) > kMaxJsonDepth)
    return invalid_argument("the JSON body is nested deeper than {} levels", kMaxJsonDepth);
  Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument("the request body is not valid JSON");
  if (!j.is_object()) return invalid_argument("the request body must be a JSON object");
  return j;
}

std::string dump_json(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string describe_json(const Json& value) {
  std::string s = dump_json(value);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

const Json* FieldReader::find(const char* key) const {
  auto it = obj_.find(key);
  if (it == obj_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string FieldReader::field_path(const char* key) const {
  return path_.empty() ? std::string(key) : path_ + "." + key;
}

Status FieldReader::error(const char* key, const std::string& message) const {
  return invalid_argument("'{}' {}", field_path(key), message).with_field(field_path(key));
}

Status FieldReader::number(const char* key, double lo, double hi, float* out) const {
  const Json* v = find(key);
  if (!v) return {};
  if (!v->is_number()) return error(key, fmt::format("must be a number, got {}", describe_json(*v)));
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    return error(key, fmt::format("must be between {} and {}, got {}", lo, hi, describe_json(*v)));
  *out = static_cast<float>(d);
  return {};
}

Status FieldReader::integer(const char* key, int64_t lo, int64_t hi, int64_t* out) const {
  const Json* v = find(key);
  if (!v) return {};
  bool ok = v->is_number_integer();
  if (!ok && v->is_number_float()) {
    // 16.0 is accepted as 16; 16.5 is not.
    const double d = v->get<double>();
    ok = std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15;
  }
  if (!ok) return error(key, fmt::format("must be an integer, got {}", describe_json(*v)));
  int64_t i;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) return error(key, fmt::format("must be between {} and {}, got {}", lo, hi, u));
    i = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    i = v->get<int64_t>();
  } else {
    i = static_cast<int64_t>(v->get<double>());
  }
  if (i < lo || i > hi) return error(key, fmt::format("must be between {} and {}, got {}", lo, hi, i));
  *out = i;
  return {};
}

Status FieldReader::boolean(const char* key, bool* out) const {
  const Json* v = find(key);
  if (!v) return {};
  if (!v->is_boolean()) return error(key, fmt::format("must be true or false, got {}", describe_json(*v)));
  *out = v->get<bool>();
  return {};
}

Status FieldReader::string(const char* key, std::string* out) const {
  const Json* v = find(key);
  if (!v) return {};
  if (!v->is_string()) return error(key, fmt::format("must be a string, got {}", describe_json(*v)));
  *out = v->get<std::string>();
  return {};
}

Status FieldReader::required_string(const char* key, std::string* out) const {
  if (!find(key)) return error(key, "is required");
  INFERD_RETURN_IF_ERROR(string(key, out));
  if (out->empty()) return error(key, "must not be empty");
  return {};
}

}  // namespace inferd::server

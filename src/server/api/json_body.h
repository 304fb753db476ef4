// Request bodies as JSON, parsed defensively: a nesting-depth limit checked before parsing (so
// hostile input cannot exhaust the stack), strict UTF-8, and field readers whose errors name
// the offending field (Status::field) for the OpenAI error envelope's "param".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace inferd::server {

// Keys keep their order (tool schemas are rendered into prompts as sent).
using Json = nlohmann::ordered_json;

// Nesting deeper than this is refused before parsing.
constexpr int kMaxJsonDepth = 64;

// Parses `body`, which must be a JSON object.
Result<Json> parse_json_object(std::string_view body);

// Serialises with invalid UTF-8 replaced (responses must never fail to encode).
std::string dump_json(const Json& j);

// Typed access to the fields of one JSON object; `path` prefixes field names in errors
// ("messages[1]" + "content" -> "messages[1].content"). Absent and null fields leave the output
// unchanged; present fields of the wrong type or out of range are errors.
class FieldReader {
 public:
  FieldReader(const Json& object, std::string path) : obj_(object), path_(std::move(path)) {}

  const Json* find(const char* key) const;
  std::string field_path(const char* key) const;

  Status number(const char* key, double lo, double hi, float* out) const;
  Status integer(const char* key, int64_t lo, int64_t hi, int64_t* out) const;
  Status boolean(const char* key, bool* out) const;
  Status string(const char* key, std::string* out) const;
  // A required non-empty string.
  Status required_string(const char* key, std::string* out) const;

  // An error about field `key`.
  Status error(const char* key, const std::string& message) const;

 private:
  const Json& obj_;
  std::string path_;
};

// Short rendering of a JSON value for error messages (truncated).
std::string describe_json(const Json& value);

}  // namespace inferd::server

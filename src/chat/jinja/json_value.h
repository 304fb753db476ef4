// Conversion between JSON (nlohmann::ordered_json, key order preserved) and interpreter values,
// and JSON text as Python's json.dumps writes it (the `tojson` filter of Hugging Face templates).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

// JSON objects become dicts in document order. Integers beyond int64 become floats.
// Fails for nesting deeper than `max_depth`.
Result<Value> value_from_json(const nlohmann::ordered_json& json, uint32_t max_depth);

// Options of Python's json.dumps.
struct JsonDumpOptions {
  bool ensure_ascii = false;
  // Indentation string per level; absent: everything on one line.
  std::optional<std::string> indent;
  // Separators; when absent, ", " (or "," with indent) and ": ".
  std::optional<std::string> item_separator;
  std::optional<std::string> key_separator;
  bool sort_keys = false;
};

// json.dumps(v): TypeError-like errors for values JSON cannot represent (Undefined,
// generators, namespaces, macros) and for dict keys other than str/int/float/bool/None.
Result<std::string> json_dumps(const Value& v, const JsonDumpOptions& options, size_t max_bytes);

}  // namespace inferd::chat::jinja

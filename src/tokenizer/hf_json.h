// Field access for tokenizer.json / tokenizer_config.json objects. Every error names the JSON
// path of the offending value ("pre_tokenizer.pretokenizers[1].pattern").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tokenizer/hf_regex.h"

namespace inferd::tokenizer {

using Json = nlohmann::json;

// "path.key" (or "key" at the root).
std::string json_path(std::string_view path, std::string_view key);
// "path[index]".
std::string json_path(std::string_view path, size_t index);

// The object's "type" string.
Result<std::string> json_type(const Json& obj, std::string_view path);
// A string field; absent or null gives `fallback`.
Result<std::string> json_string_or(const Json& obj, std::string_view key, std::string_view path,
                                   std::string_view fallback);
// A required string field.
Result<std::string> json_string(const Json& obj, std::string_view key, std::string_view path);
Result<bool> json_bool_or(const Json& obj, std::string_view key, std::string_view path,
                          bool fallback);
Result<int64_t> json_int_or(const Json& obj, std::string_view key, std::string_view path,
                            int64_t fallback);
// A required array field.
Result<const Json*> json_array(const Json& obj, std::string_view key, std::string_view path);
// The pattern field `key`: {"String": literal} or {"Regex": expression}, compiled.
Result<HfRegex> json_pattern(const Json& obj, std::string_view key, std::string_view path);
// A token text given as a string or as an added-token object {"content": ...}; null gives "".
Result<std::string> json_token_text(const Json& value, std::string_view path);

}  // namespace inferd::tokenizer

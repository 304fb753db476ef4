#include "tokenizer/hf_json.h"

#include <fmt/format.h>

namespace inferd::tokenizer {

std::string json_path(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string json_path(std::string_view path, size_t index) {
  return fmt::format("{}[{}]", path, index);
}

Result<std::string> json_type(const Json& obj, std::string_view path) {
  if (!obj.is_object()) return invalid_argument("{} must be an object", path);
  return json_string(obj, "type", path);
}

Result<std::string> json_string_or(const Json& obj, std::string_view key, std::string_view path,
                                   std::string_view fallback) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string(fallback);
  if (!it->is_string()) return invalid_argument("{} must be a string", json_path(path, key));
  return it->get<std::string>();
}

Result<std::string> json_string(const Json& obj, std::string_view key, std::string_view path) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return invalid_argument("{} is missing", json_path(path, key));
  if (!it->is_string()) return invalid_argument("{} must be a string", json_path(path, key));
  return it->get<std::string>();
}

Result<bool> json_bool_or(const Json& obj, std::string_view key, std::string_view path,
                          bool fallback) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return invalid_argument("{} must be true or false", json_path(path, key));
  return it->get<bool>();
}

Result<int64_t> json_int_or(const Json& obj, std::string_view key, std::string_view path,
                            int64_t fallback) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_number_integer())
    return invalid_argument("{} must be an integer", json_path(path, key));
  return it->get<int64_t>();
}

Result<const Json*> json_array(const Json& obj, std::string_view key, std::string_view path) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_array())
    return invalid_argument("{} must be an array", json_path(path, key));
  return &*it;
}

Result<HfRegex> json_pattern(const Json& obj, std::string_view key, std::string_view path) {
  const std::string p = json_path(path, key);
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_object() || it->size() != 1)
    return invalid_argument("{} must be {{\"String\": ...}} or {{\"Regex\": ...}}", p);
  const bool literal = it->contains("String");
  const Json& value = literal ? (*it)["String"] : it->value("Regex", Json());
  if (!value.is_string())
    return invalid_argument("{} must be {{\"String\": ...}} or {{\"Regex\": ...}}", p);
  auto re = HfRegex::compile(value.get<std::string>(), literal);
  if (!re.ok()) return re.status().with_context(p);
  return re;
}

Result<std::string> json_token_text(const Json& value, std::string_view path) {
  if (value.is_null()) return std::string();
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object()) return json_string(value, "content", path);
  return invalid_argument("{} must be a string or an object with \"content\"", path);
}

}  // namespace inferd::tokenizer

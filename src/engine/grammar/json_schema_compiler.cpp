#include "engine/grammar/json_schema_compiler.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "engine/grammar/json_number_grammar.h"
#include "engine/grammar/json_string_formats.h"
#include "engine/grammar/regex_to_grammar.h"

namespace inferd::engine {

using Json = nlohmann::ordered_json;

namespace {

constexpr std::string_view kHandled[] = {
    "type", "properties", "required", "additionalProperties", "items", "prefixItems", "additionalItems",
    "minItems", "maxItems", "uniqueItems", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs",
    "definitions", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "nullable"};
constexpr std::string_view kAnnotations[] = {
    "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly",
    "writeOnly", "discriminator", "$anchor", "contentMediaType", "contentEncoding"};
// Keywords of object schemas that allOf merges.
constexpr std::string_view kObjectKeywords[] = {"type", "properties", "required", "additionalProperties"};

template <size_t N>
bool in(const std::string_view (&list)[N], std::string_view k) {
  for (std::string_view x : list)
    if (x == k) return true;
  return false;
}

bool is_annotation(std::string_view k) { return in(kAnnotations, k) || k.starts_with("x-"); }
// Keys that constrain the value (not annotations or definitions).
bool is_constraint(std::string_view k) { return !is_annotation(k) && k != "$defs" && k != "definitions"; }

std::string child_path(const std::string& path, std::string_view keyword, size_t index) {
  return fmt::format("{}/{}/{}", path, keyword, index);
}

// The constraint keys of `s` other than `except`, as a schema of their own.
Json siblings(const Json& s, std::string_view except) {
  Json out = Json::object();
  for (auto it = s.begin(); it != s.end(); ++it)
    if (it.key() != except && is_constraint(it.key())) out[it.key()] = it.value();
  return out;
}

bool has_constraints(const Json& s) {
  for (auto it = s.begin(); it != s.end(); ++it)
    if (is_constraint(it.key())) return true;
  return false;
}

bool accepts_anything(const Json& s) {
  return (s.is_boolean() && s.get<bool>()) || (s.is_object() && !has_constraints(s));
}

bool value_has_type(const Json& v, std::string_view type) {
  if (type == "null") return v.is_null();
  if (type == "boolean") return v.is_boolean();
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return std::isfinite(d) && d == std::floor(d);
  }
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  return false;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string sanitize_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (ok) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace

Result<int64_t> JsonSchemaCompiler::count_keyword(const Json& s, const char* key, int64_t fallback,
                                                  const std::string& path) {
  auto it = s.find(key);
  if (it == s.end()) return fallback;
  const Json& v = *it;
  if (v.is_number_unsigned() || v.is_number_integer()) {
    const int64_t n = v.get<int64_t>();
    if (n >= 0) return n;
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d >= 0 && d == std::floor(d) && d < 1e15) return static_cast<int64_t>(d);
  }
  return invalid_argument("\"{}\" at {} must be a non-negative integer", key, path);
}

namespace {

struct Bound {
  double value;
  bool exclusive;
};

// minimum / exclusiveMinimum (or the maximum pair) in either draft's form; the tighter one wins.
Result<std::optional<Bound>> read_bound(const Json& s, const char* inclusive_key, const char* exclusive_key,
                                        bool lower, const std::string& path) {
  std::optional<Bound> bound;
  auto tighter = [&](Bound b) {
    if (!bound) {
      bound = b;
      return;
    }
    const bool better = lower ? (b.value > bound->value || (b.value == bound->value && b.exclusive))
                              : (b.value < bound->value || (b.value == bound->value && b.exclusive));
    if (better) bound = b;
  };
  bool draft4_exclusive = false;
  if (auto it = s.find(exclusive_key); it != s.end()) {
    if (it->is_boolean()) {
      draft4_exclusive = it->get<bool>();
    } else if (it->is_number()) {
      tighter({it->get<double>(), true});
    } else {
      return invalid_argument("\"{}\" at {} must be a number", exclusive_key, path);
    }
  }
  if (auto it = s.find(inclusive_key); it != s.end()) {
    if (!it->is_number()) return invalid_argument("\"{}\" at {} must be a number", inclusive_key, path);
    tighter({it->get<double>(), draft4_exclusive});
  }
  if (bound && !std::isfinite(bound->value)) return invalid_argument("\"{}\" at {} must be finite", inclusive_key, path);
  return bound;
}

int64_t clamp_to_int64(double v) {
  constexpr double kLimit = 9.0e18;
  if (v > kLimit) return static_cast<int64_t>(kLimit);
  if (v < -kLimit) return -static_cast<int64_t>(kLimit);
  return static_cast<int64_t>(v);
}

}  // namespace

JsonSchemaCompiler::JsonSchemaCompiler(Grammar& grammar, const JsonSchemaOptions& options)
    : g_(grammar), options_(options), json_(grammar, options.whitespace) {}

std::string JsonSchemaCompiler::rule_name(std::string_view hint) const {
  const std::string suffix = sanitize_name(hint);
  return g_.unique_rule_name(suffix.empty() ? name_ : name_ + "-" + suffix);
}

Result<RuleId> JsonSchemaCompiler::add_schema(const Json& schema, std::string_view name) {
  name_ = sanitize_name(name);
  // Names of JsonRules ("json-...") and formats ("format-...") are reserved, as is "root".
  if (name_.empty()) {
    name_ = "schema";
  } else if (name_ == "root" || name_.starts_with("json") || name_.starts_with("format")) {
    name_ = "schema-" + name_;
  }
  doc_ = &schema;
  ++doc_index_;
  const RuleId rule = g_.add_rule(g_.unique_rule_name(name_));
  ref_rules_[fmt::format("{}#", doc_index_)] = rule;
  Result<ExprId> body = internal_error("unset");
  try {
    body = compile(schema, "#", 0);
  } catch (const nlohmann::json::exception& e) {
    body = invalid_argument("malformed JSON Schema: {}", e.what());
  }
  doc_ = nullptr;
  if (!body.ok()) return body.status();
  g_.set_body(rule, *body);
  return rule;
}

Result<ExprId> JsonSchemaCompiler::compile(const Json& s, const std::string& path, int depth) {
  if (depth > options_.max_depth)
    return unsupported("schema nested deeper than {} levels at {}", options_.max_depth, path);
  if (s.is_boolean()) {
    if (s.get<bool>()) return json_.value();
    return invalid_argument("schema false at {} admits no value", path);
  }
  if (!s.is_object()) return invalid_argument("schema at {} must be an object or a boolean", path);
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (is_annotation(it.key()) || in(kHandled, it.key())) continue;
    return unsupported("unsupported JSON Schema keyword \"{}\" at {}", it.key(), path);
  }
  if (auto it = s.find("uniqueItems"); it != s.end() && !(it->is_boolean() && !it->get<bool>()))
    return unsupported("unsupported JSON Schema keyword \"uniqueItems\" (true) at {}", path);

  if (s.contains("$ref")) {
    const Json rest = siblings(s, "$ref");
    if (rest.empty()) return compile_ref(s, path, depth);
    Json parts = Json::array({Json{{"$ref", s["$ref"]}}, rest});
    return compile_all_of(parts, path, depth);
  }
  if (auto it = s.find("allOf"); it != s.end()) {
    if (!it->is_array() || it->empty()) return invalid_argument("\"allOf\" at {} must be a non-empty array", path);
    Json parts = *it;
    const Json rest = siblings(s, "allOf");
    if (!rest.empty()) parts.push_back(rest);
    return compile_all_of(parts, path + "/allOf", depth);
  }
  const bool any_of = s.contains("anyOf"), one_of = s.contains("oneOf");
  if (any_of && one_of) return unsupported("anyOf together with oneOf at {}", path);
  if (any_of || one_of) return compile_any_of(s, any_of ? "anyOf" : "oneOf", path, depth);
  if (s.contains("const") || s.contains("enum")) return compile_enum(s, path);

  std::vector<std::string> types;
  if (auto it = s.find("type"); it != s.end()) {
    if (it->is_string()) {
      types.push_back(it->get<std::string>());
    } else if (it->is_array() && !it->empty()) {
      for (const Json& t : *it) {
        if (!t.is_string()) return invalid_argument("\"type\" at {} must be a string or an array of strings", path);
        types.push_back(t.get<std::string>());
      }
    } else {
      return invalid_argument("\"type\" at {} must be a string or an array of strings", path);
    }
  } else {
    // Without a type, generate the kind its keywords describe (a subset of what it allows).
    static constexpr std::pair<const char*, const char*> kInfer[] = {
        {"properties", "object"}, {"required", "object"}, {"additionalProperties", "object"},
        {"items", "array"}, {"prefixItems", "array"}, {"minItems", "array"}, {"maxItems", "array"},
        {"minLength", "string"}, {"maxLength", "string"}, {"pattern", "string"}, {"format", "string"},
        {"minimum", "number"}, {"maximum", "number"}, {"exclusiveMinimum", "number"},
        {"exclusiveMaximum", "number"}};
    for (const auto& [key, type] : kInfer) {
      if (s.contains(key)) {
        types.push_back(type);
        break;
      }
    }
    if (types.empty()) return json_.value();
  }
  if (auto it = s.find("nullable"); it != s.end() && it->is_boolean() && it->get<bool>() &&
                                    std::find(types.begin(), types.end(), "null") == types.end())
    types.push_back("null");
  std::vector<ExprId> alternatives;
  for (const std::string& t : types) {
    INFERD_ASSIGN_OR_RETURN(const ExprId e, compile_type(t, s, path, depth));
    alternatives.push_back(e);
  }
  return g_.choice(std::move(alternatives));
}

Result<const Json*> JsonSchemaCompiler::resolve_ref(const Json& s, const std::string& path) const {
  const Json& ref = s["$ref"];
  if (!ref.is_string()) return invalid_argument("\"$ref\" at {} must be a string", path);
  const std::string text = ref.get<std::string>();
  if (text == "#") return doc_;
  if (!text.starts_with("#/"))
    return unsupported("$ref \"{}\" at {}: only references into the same document (\"#/...\") are supported", text,
                       path);
  try {
    const Json::json_pointer pointer(percent_decode(text.substr(1)));
    if (!doc_->contains(pointer)) return invalid_argument("$ref \"{}\" at {} points to nothing", text, path);
    return &doc_->at(pointer);
  } catch (const nlohmann::json::exception&) {
    return invalid_argument("$ref \"{}\" at {} is not a valid JSON pointer", text, path);
  }
}

Result<ExprId> JsonSchemaCompiler::compile_ref(const Json& s, const std::string& path, int depth) {
  INFERD_ASSIGN_OR_RETURN(const Json* target, resolve_ref(s, path));
  const std::string text = s["$ref"].get<std::string>();
  const std::string key = fmt::format("{}{}", doc_index_, text);
  if (auto it = ref_rules_.find(key); it != ref_rules_.end()) return g_.ref(it->second);
  const size_t slash = text.rfind('/');
  const RuleId rule = g_.add_rule(rule_name(slash == std::string::npos ? "ref" : text.substr(slash + 1)));
  ref_rules_[key] = rule;
  INFERD_ASSIGN_OR_RETURN(const ExprId body, compile(*target, text, depth + 1));
  g_.set_body(rule, body);
  return g_.ref(rule);
}

Result<ExprId> JsonSchemaCompiler::compile_any_of(const Json& s, const char* key, const std::string& path, int depth) {
  const Json& alts = s[key];
  if (!alts.is_array() || alts.empty()) return invalid_argument("\"{}\" at {} must be a non-empty array", key, path);
  Json rest = siblings(s, key);
  const bool nullable = rest.contains("nullable") && rest["nullable"].is_boolean() && rest["nullable"].get<bool>();
  rest.erase("nullable");
  std::vector<ExprId> alternatives;
  for (size_t i = 0; i < alts.size(); ++i) {
    const std::string alt_path = child_path(path, key, i);
    Result<ExprId> e = rest.empty() ? compile(alts[i], alt_path, depth + 1)
                                    : compile_all_of(Json::array({alts[i], rest}), alt_path, depth + 1);
    if (!e.ok()) return e.status();
    alternatives.push_back(*e);
  }
  if (nullable) alternatives.push_back(g_.literal("null"));
  return g_.choice(std::move(alternatives));
}

Result<ExprId> JsonSchemaCompiler::compile_all_of(const Json& parts, const std::string& path, int depth) {
  if (depth > options_.max_depth)
    return unsupported("schema nested deeper than {} levels at {}", options_.max_depth, path);
  // Follow plain references and drop parts that constrain nothing.
  std::vector<const Json*> kept;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Json* p = &parts[i];
    for (int hops = 0; p->is_object() && p->contains("$ref") && siblings(*p, "$ref").empty(); ++hops) {
      if (hops > 32) return invalid_argument("$ref chain too long at {}", path);
      INFERD_ASSIGN_OR_RETURN(p, resolve_ref(*p, path));
    }
    if (p->is_boolean()) {
      if (!p->get<bool>()) return invalid_argument("allOf at {} contains false: no value is valid", path);
      continue;
    }
    if (!p->is_object()) return invalid_argument("allOf part at {} must be an object or a boolean", path);
    if (has_constraints(*p)) kept.push_back(p);
  }
  if (kept.empty()) return json_.value();
  if (kept.size() == 1) return compile(*kept[0], path, depth + 1);

  bool all_objects = true;
  for (const Json* p : kept) {
    for (auto it = p->begin(); it != p->end(); ++it) {
      if (!is_constraint(it.key())) continue;
      if (!in(kObjectKeywords, it.key())) all_objects = false;
    }
    if (auto t = p->find("type"); t != p->end() && *t != "object") all_objects = false;
  }
  Json merged = Json::object();
  if (all_objects) {
    // Properties of every part (first appearance fixes the order), required from every part;
    // a property some part closes out with additionalProperties: false is dropped.
    Json props = Json::object();
    std::vector<std::string> required;
    for (const Json* p : kept) {
      if (auto it = p->find("properties"); it != p->end() && it->is_object()) {
        for (auto prop = it->begin(); prop != it->end(); ++prop) {
          if (!props.contains(prop.key()) || accepts_anything(props[prop.key()])) {
            props[prop.key()] = prop.value();
          } else if (!accepts_anything(prop.value()) && props[prop.key()] != prop.value()) {
            props[prop.key()] = Json{{"allOf", Json::array({props[prop.key()], prop.value()})}};
          }
        }
      }
      if (auto it = p->find("required"); it != p->end() && it->is_array())
        for (const Json& r : *it)
          if (r.is_string() && std::find(required.begin(), required.end(), r.get<std::string>()) == required.end())
            required.push_back(r.get<std::string>());
    }
    for (const Json* p : kept) {
      auto ap = p->find("additionalProperties");
      if (ap == p->end() || !(ap->is_boolean() && !ap->get<bool>())) continue;
      const Json own = p->contains("properties") ? (*p)["properties"] : Json::object();
      Json filtered = Json::object();
      for (auto prop = props.begin(); prop != props.end(); ++prop) {
        if (own.contains(prop.key())) {
          filtered[prop.key()] = prop.value();
        } else if (std::find(required.begin(), required.end(), prop.key()) != required.end()) {
          return invalid_argument("allOf at {}: property \"{}\" is required by one part and forbidden by another",
                                  path, prop.key());
        }
      }
      props = std::move(filtered);
    }
    merged["type"] = "object";
    merged["properties"] = std::move(props);
    merged["required"] = required;
    merged["additionalProperties"] = false;
  } else {
    for (const Json* p : kept) {
      for (auto it = p->begin(); it != p->end(); ++it) {
        if (!is_constraint(it.key())) continue;
        if (merged.contains(it.key()) && merged[it.key()] != it.value())
          return unsupported("allOf at {}: keyword \"{}\" appears in several parts (only object parts, or parts "
                             "with different keywords, can be combined)",
                             path, it.key());
        merged[it.key()] = it.value();
      }
    }
  }
  return compile(merged, path, depth + 1);
}

Result<ExprId> JsonSchemaCompiler::compile_enum(const Json& s, const std::string& path) {
  Json values;
  if (auto it = s.find("const"); it != s.end()) {
    values = Json::array({*it});
  } else {
    values = s["enum"];
    if (!values.is_array() || values.empty()) return invalid_argument("\"enum\" at {} must be a non-empty array", path);
  }
  std::vector<std::string> types;
  if (auto it = s.find("type"); it != s.end()) {
    if (it->is_string()) types.push_back(it->get<std::string>());
    if (it->is_array())
      for (const Json& t : *it)
        if (t.is_string()) types.push_back(t.get<std::string>());
    if (s.contains("nullable") && s["nullable"].is_boolean() && s["nullable"].get<bool>()) types.push_back("null");
  }
  std::vector<ExprId> alternatives;
  for (const Json& v : values) {
    bool typed = types.empty();
    for (const std::string& t : types) typed |= value_has_type(v, t);
    if (typed) alternatives.push_back(g_.literal(v.dump()));
  }
  if (alternatives.empty()) return invalid_argument("no value of \"enum\"/\"const\" at {} has the schema's type", path);
  return g_.choice(std::move(alternatives));
}

Result<ExprId> JsonSchemaCompiler::compile_type(const std::string& type, const Json& s, const std::string& path,
                                                int depth) {
  if (type == "string") return compile_string(s, path);
  if (type == "integer") return compile_numeric(true, s, path);
  if (type == "number") return compile_numeric(false, s, path);
  if (type == "boolean") return g_.choice({g_.literal("true"), g_.literal("false")});
  if (type == "null") return g_.literal("null");
  if (type == "object") return compile_object(s, path, depth);
  if (type == "array") return compile_array(s, path, depth);
  return invalid_argument("unknown type \"{}\" at {}", type, path);
}

Result<ExprId> JsonSchemaCompiler::compile_string(const Json& s, const std::string& path) {
  const bool has_length = s.contains("minLength") || s.contains("maxLength");
  const bool has_pattern = s.contains("pattern");
  if (auto it = s.find("format"); it != s.end()) {
    if (!it->is_string()) return invalid_argument("\"format\" at {} must be a string", path);
    const ExprId format = json_string_format(g_, it->get<std::string>());
    if (format >= 0) {
      if (has_length || has_pattern)
        return unsupported("format \"{}\" together with minLength/maxLength/pattern at {}", it->get<std::string>(),
                           path);
      return json_.quoted(format);
    }
    if (options_.strict_formats) return unsupported("unsupported string format \"{}\" at {}", it->get<std::string>(), path);
  }
  if (has_pattern) {
    const Json& p = s["pattern"];
    if (!p.is_string()) return invalid_argument("\"pattern\" at {} must be a string", path);
    if (has_length) return unsupported("pattern together with minLength/maxLength at {}", path);
    auto emit = [this](Grammar&, const CharSet& set) { return json_.string_chars(set); };
    Result<ExprId> content = regex_to_expr(g_, p.get<std::string>(), emit);
    if (!content.ok()) return Status(content.status().code(), fmt::format("{} at {}", content.status().message(), path));
    return json_.quoted(*content);
  }
  INFERD_ASSIGN_OR_RETURN(const int64_t min_len, count_keyword(s, "minLength", 0, path));
  INFERD_ASSIGN_OR_RETURN(const int64_t max_len, count_keyword(s, "maxLength", -1, path));
  if (max_len >= 0 && max_len < min_len) return invalid_argument("maxLength below minLength at {}", path);
  if (min_len > kMaxStringLength || max_len > kMaxStringLength)
    return unsupported("string length bounds above {} at {}", kMaxStringLength, path);
  return json_.string_of_length(static_cast<int32_t>(min_len),
                                max_len < 0 ? Grammar::kUnbounded : static_cast<int32_t>(max_len));
}

Result<ExprId> JsonSchemaCompiler::compile_numeric(bool integer, const Json& s, const std::string& path) {
  INFERD_ASSIGN_OR_RETURN(const std::optional<Bound> lo, read_bound(s, "minimum", "exclusiveMinimum", true, path));
  INFERD_ASSIGN_OR_RETURN(const std::optional<Bound> hi, read_bound(s, "maximum", "exclusiveMaximum", false, path));
  if (!lo && !hi) return integer ? json_.integer() : json_.number();
  Result<ExprId> e = internal_error("unset");
  if (integer) {
    std::optional<int64_t> lo_int, hi_int;
    if (lo) lo_int = clamp_to_int64(lo->exclusive ? std::floor(lo->value) + 1 : std::ceil(lo->value));
    if (hi) hi_int = clamp_to_int64(hi->exclusive ? std::ceil(hi->value) - 1 : std::floor(hi->value));
    e = integer_range_expr(g_, lo_int, hi_int);
  } else {
    auto convert = [&](const std::optional<Bound>& b, bool lower) -> Result<std::optional<NumberBound>> {
      if (!b) return std::optional<NumberBound>();
      if (b->value != std::floor(b->value))
        return unsupported("number bound {} at {}: only integer-valued bounds are supported for numbers", b->value,
                           path);
      const double limit = static_cast<double>(kMaxIntegerMagnitude);
      if (lower ? b->value < -limit : b->value > limit) return std::optional<NumberBound>();  // no tighter than the digit policy
      return std::optional<NumberBound>(NumberBound{clamp_to_int64(b->value), b->exclusive});
    };
    INFERD_ASSIGN_OR_RETURN(const std::optional<NumberBound> nlo, convert(lo, true));
    INFERD_ASSIGN_OR_RETURN(const std::optional<NumberBound> nhi, convert(hi, false));
    e = number_range_expr(g_, nlo, nhi);
  }
  if (!e.ok()) return Status(e.status().code(), fmt::format("{} at {}", e.status().message(), path));
  return e;
}

Result<ExprId> JsonSchemaCompiler::compile_as_rule(const Json& s, const std::string& path, int depth,
                                                   std::string_view hint) {
  const RuleId rule = g_.add_rule(rule_name(hint));
  INFERD_ASSIGN_OR_RETURN(const ExprId body, compile(s, path, depth + 1));
  g_.set_body(rule, body);
  return g_.ref(rule);
}

}  // namespace inferd::engine

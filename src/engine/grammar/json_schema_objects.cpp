// JsonSchemaCompiler: objects, arrays and the entry points.
#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "engine/grammar/json_schema_compiler.h"

namespace inferd::engine {

using Json = nlohmann::ordered_json;

namespace {

std::string property_path(const std::string& path, std::string_view name) {
  std::string out = path + "/properties/";
  for (char c : name) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// The rule-name hint for a subschema at `path`: its property names and item markers.
std::string hint_of(const std::string& path) {
  static constexpr std::string_view kSkip[] = {"#", "properties", "$defs", "definitions", "anyOf", "oneOf", "allOf"};
  std::string out;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t end = std::min(path.find('/', pos), path.size());
    const std::string_view seg(path.data() + pos, end - pos);
    bool skip = seg.empty();
    for (std::string_view k : kSkip) skip |= seg == k;
    if (!skip) {
      if (!out.empty()) out += '-';
      out += seg;
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace

Result<ExprId> JsonSchemaCompiler::compile_object(const Json& s, const std::string& path, int depth) {
  struct Property {
    std::string name;
    ExprId value;
    bool required;
  };
  std::vector<std::string> required;
  if (auto it = s.find("required"); it != s.end()) {
    if (!it->is_array()) return invalid_argument("\"required\" at {} must be an array of strings", path);
    for (const Json& r : *it) {
      if (!r.is_string()) return invalid_argument("\"required\" at {} must be an array of strings", path);
      if (std::find(required.begin(), required.end(), r.get<std::string>()) == required.end())
        required.push_back(r.get<std::string>());
    }
  }
  auto is_required = [&](const std::string& name) {
    return std::find(required.begin(), required.end(), name) != required.end();
  };
  // Extra properties: none unless additionalProperties is true or a schema.
  std::optional<ExprId> extra_value;
  if (auto it = s.find("additionalProperties"); it != s.end()) {
    if (it->is_boolean()) {
      if (it->get<bool>()) extra_value = json_.value();
    } else if (it->is_object()) {
      INFERD_ASSIGN_OR_RETURN(extra_value, compile_as_rule(*it, path + "/additionalProperties", depth,
                                                           hint_of(path) + "-additional"));
    } else {
      return invalid_argument("\"additionalProperties\" at {} must be a boolean or a schema", path);
    }
  }

  std::vector<Property> props;
  std::vector<std::string> names;
  if (auto it = s.find("properties"); it != s.end()) {
    if (!it->is_object()) return invalid_argument("\"properties\" at {} must be an object", path);
    for (auto p = it->begin(); p != it->end(); ++p) {
      const std::string ppath = property_path(path, p.key());
      INFERD_ASSIGN_OR_RETURN(const ExprId value, compile_as_rule(p.value(), ppath, depth, hint_of(ppath)));
      props.push_back({p.key(), value, is_required(p.key())});
      names.push_back(p.key());
    }
  }
  // Required names without a declared schema take any value, if extra properties may appear.
  for (const std::string& r : required) {
    if (std::find(names.begin(), names.end(), r) != names.end()) continue;
    if (!extra_value)
      return invalid_argument("property \"{}\" is required at {} but not allowed (not in \"properties\" and no "
                              "\"additionalProperties\")",
                              r, path);
    props.push_back({r, *extra_value, true});
    names.push_back(r);
  }

  const ExprId ws = json_.ws();
  const ExprId sep = g_.sequence({ws, g_.literal(","), ws});
  auto member = [&](ExprId key, ExprId value) { return g_.sequence({key, ws, g_.literal(":"), ws, value}); };
  // After something was written: the remaining extra properties, each after a comma.
  std::optional<ExprId> extra_member;
  if (extra_value) {
    const ExprId key = names.empty() ? json_.string() : json_.string_excluding(names);
    extra_member = member(key, *extra_value);
  }
  const bool any_optional = std::any_of(props.begin(), props.end(), [](const Property& p) { return !p.required; });
  // rest[i]: properties i.. (and extras) after at least one member was written. It is shared by
  // two alternatives when a property is optional, so it becomes a rule then.
  ExprId rest = extra_member ? g_.star(g_.sequence({sep, *extra_member})) : g_.empty();
  // first: at least one member, the first one being property i or later.
  std::optional<ExprId> first;
  if (extra_member) first = g_.sequence({*extra_member, rest});
  for (size_t i = props.size(); i-- > 0;) {
    const ExprId kv = member(g_.literal(Json(props[i].name).dump()), props[i].value);
    const ExprId take = g_.sequence({kv, rest});
    if (props[i].required) {
      first = take;
    } else {
      first = first ? g_.choice({take, *first}) : take;
    }
    const ExprId with_sep = g_.sequence({sep, kv});
    ExprId new_rest = g_.sequence({props[i].required ? with_sep : g_.optional(with_sep), rest});
    if (any_optional && i > 0)
      new_rest = g_.ref(g_.add_rule(rule_name(hint_of(path) + fmt::format("-rest{}", i)), new_rest));
    rest = new_rest;
  }
  const ExprId open = g_.literal("{"), close = g_.literal("}");
  const bool nonempty = std::any_of(props.begin(), props.end(), [](const Property& p) { return p.required; });
  if (!first) return g_.sequence({open, ws, close});
  if (nonempty) return g_.sequence({open, ws, *first, ws, close});
  return g_.sequence({open, ws, g_.optional(g_.sequence({*first, ws})), close});
}

Result<ExprId> JsonSchemaCompiler::compile_array(const Json& s, const std::string& path, int depth) {
  // Positional items (prefixItems, or the older items-array form), then the item schema.
  const Json* prefix = nullptr;
  const Json* item = nullptr;
  std::string prefix_key = "prefixItems", item_key = "items";
  auto items = s.find("items");
  if (auto it = s.find("prefixItems"); it != s.end()) {
    if (!it->is_array()) return invalid_argument("\"prefixItems\" at {} must be an array", path);
    prefix = &*it;
    if (items != s.end()) item = &*items;
  } else if (items != s.end() && items->is_array()) {
    prefix = &*items;
    prefix_key = "items";
    item_key = "additionalItems";
    if (auto ai = s.find("additionalItems"); ai != s.end()) item = &*ai;
  } else if (items != s.end()) {
    item = &*items;
  }
  INFERD_ASSIGN_OR_RETURN(const int64_t min_items, count_keyword(s, "minItems", 0, path));
  INFERD_ASSIGN_OR_RETURN(int64_t max_items, count_keyword(s, "maxItems", -1, path));
  if (max_items >= 0 && max_items < min_items) return invalid_argument("maxItems below minItems at {}", path);
  if (min_items > kMaxArrayItems || max_items > kMaxArrayItems)
    return unsupported("array length bounds above {} at {}", kMaxArrayItems, path);

  std::vector<ExprId> positional;
  if (prefix) {
    for (size_t i = 0; i < prefix->size(); ++i) {
      if (max_items >= 0 && static_cast<int64_t>(i) >= max_items) break;
      const std::string ipath = fmt::format("{}/{}/{}", path, prefix_key, i);
      INFERD_ASSIGN_OR_RETURN(const ExprId e, compile_as_rule((*prefix)[i], ipath, depth,
                                                              hint_of(path) + fmt::format("-{}", i)));
      positional.push_back(e);
    }
  }
  // The repeated item: absent means any value, false means none.
  std::optional<ExprId> repeated;
  if (!item) {
    repeated = json_.value();
  } else if (!(item->is_boolean() && !item->get<bool>())) {
    INFERD_ASSIGN_OR_RETURN(repeated, compile_as_rule(*item, path + "/" + item_key, depth, hint_of(path) + "-item"));
  }
  const auto num_positional = static_cast<int64_t>(positional.size());
  if (!repeated) {
    if (min_items > num_positional)
      return invalid_argument("minItems {} at {} exceeds the {} items allowed", min_items, path, num_positional);
    if (max_items < 0 || max_items > num_positional) max_items = num_positional;
  }
  const ExprId ws = json_.ws();
  const ExprId open = g_.literal("["), close = g_.literal("]");
  if (max_items == 0) return g_.sequence({open, ws, close});
  const ExprId sep = g_.sequence({ws, g_.literal(","), ws});
  const int64_t lo = std::max<int64_t>(min_items, 1);
  // Elements i.. after i were written (i >= 1).
  auto after = [&](auto&& self, int64_t i) -> ExprId {
    if (max_items >= 0 && i >= max_items) return g_.empty();
    if (i < num_positional) {
      const ExprId s_i = g_.sequence({sep, positional[static_cast<size_t>(i)], self(self, i + 1)});
      return i >= lo ? g_.optional(s_i) : s_i;
    }
    if (!repeated) return g_.empty();
    const int64_t more_min = std::max<int64_t>(lo - i, 0);
    const int32_t more_max = max_items < 0 ? Grammar::kUnbounded : static_cast<int32_t>(max_items - i);
    return g_.repeat(g_.sequence({sep, *repeated}), static_cast<int32_t>(more_min), more_max);
  };
  const ExprId elements = g_.sequence({num_positional > 0 ? positional[0] : *repeated, after(after, 1)});
  if (min_items == 0) return g_.sequence({open, ws, g_.optional(g_.sequence({elements, ws})), close});
  return g_.sequence({open, ws, elements, ws, close});
}

Result<Grammar> json_schema_grammar(const Json& schema, const JsonSchemaOptions& options) {
  Grammar g;
  JsonSchemaCompiler compiler(g, options);
  INFERD_ASSIGN_OR_RETURN(const RuleId value, compiler.add_schema(schema, "schema"));
  const ExprId ws = compiler.json().ws();
  g.set_root(g.add_rule("root", g.sequence({ws, g.ref(value), ws})));
  INFERD_RETURN_IF_ERROR(g.validate());
  return g;
}

Result<Grammar> json_schema_grammar_from_text(std::string_view schema_text, const JsonSchemaOptions& options) {
  const Json schema = Json::parse(schema_text, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return invalid_argument("JSON Schema is not valid JSON");
  return json_schema_grammar(schema, options);
}

Grammar json_object_grammar(const JsonSchemaOptions& options) {
  Grammar g;
  JsonRules json(g, options.whitespace);
  g.set_root(g.add_rule("root", g.sequence({json.ws(), json.object(), json.ws()})));
  return g;
}

}  // namespace inferd::engine

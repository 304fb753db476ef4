// JSON Schema -> Grammar, for structured output (response_format json_schema) and tool calls.
// The grammar generates only JSON text that parses and validates against the schema; where the
// schema allows more than the grammar generates, the grammar picks a subset (noted below).
//
// Supported (everything else is an error naming the keyword and its JSON-pointer path, e.g.
// `unsupported JSON Schema keyword "not" at #/properties/a`):
// - type: object, array, string, number, integer, boolean, null, a list of types, nullable
//   (OpenAPI); without type: inferred from the keywords present, else any JSON value.
// - object: properties in schema order (so pass ordered_json or text to keep it), required
//   (optional properties may be omitted), additionalProperties false/true/schema. Without
//   additionalProperties no other property is generated; with it, extra properties come after
//   the declared ones, with escape-free names different from the declared ones.
// - array: items, prefixItems (and the older items-array / additionalItems), minItems,
//   maxItems, uniqueItems: false.
// - enum, const (values written compactly, filtered by type), anyOf, oneOf (as anyOf: give
//   disjoint alternatives), allOf (merged: object parts or parts with disjoint keywords),
//   $ref to "#", "#/$defs/...", "#/definitions/..." or any pointer into the document, with
//   recursion.
// - string: minLength, maxLength (characters; at most kMaxStringLength), pattern (see
//   regex_to_grammar.h), format date, time, date-time, uuid, email (json_string_formats.h);
//   other formats are annotations (ignored) unless options.strict_formats.
// - integer: minimum, maximum, exclusiveMinimum, exclusiveMaximum (both drafts' forms).
//   number: the same with integer-valued bounds (no exponent is generated then).
// - title, description, default, examples, $schema, $id, $comment, deprecated, readOnly,
//   writeOnly, discriminator and x-* keys are ignored.
// Numbers and integers have at most 16 integer and 16 fraction digits (json_number_grammar.h).
// Whitespace between tokens is bounded (json_rules.h).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "engine/grammar/grammar.h"
#include "engine/grammar/json_rules.h"

namespace inferd::engine {

inline constexpr int32_t kMaxStringLength = 1000;
inline constexpr int32_t kMaxArrayItems = 1000;

struct JsonSchemaOptions {
  JsonWhitespace whitespace;
  // Unknown "format" values are errors instead of annotations.
  bool strict_formats = false;
  // Deepest nesting of subschemas.
  int32_t max_depth = 64;
};

class JsonSchemaCompiler {
 public:
  JsonSchemaCompiler(Grammar& grammar, const JsonSchemaOptions& options = {});

  // Adds the rules for one schema document ($ref pointers resolve within it) and returns the
  // rule for one JSON value valid against it (no surrounding whitespace). New rule names start
  // with `name` (prefixed when it could clash with the reserved json-..., format-... or root).
  // REQUIRES: `grammar` has no rules of its own named json-... or format-... .
  // Errors: kUnsupported for keywords and features outside the subset, kInvalidArgument for
  // malformed or unsatisfiable schemas; both name the path.
  Result<RuleId> add_schema(const nlohmann::ordered_json& schema, std::string_view name);

  JsonRules& json() { return json_; }

 private:
  Result<ExprId> compile(const nlohmann::ordered_json& s, const std::string& path, int depth);
  Result<ExprId> compile_ref(const nlohmann::ordered_json& s, const std::string& path, int depth);
  Result<ExprId> compile_all_of(const nlohmann::ordered_json& parts, const std::string& path, int depth);
  Result<ExprId> compile_any_of(const nlohmann::ordered_json& s, const char* key, const std::string& path,
                                int depth);
  Result<ExprId> compile_enum(const nlohmann::ordered_json& s, const std::string& path);
  Result<ExprId> compile_type(const std::string& type, const nlohmann::ordered_json& s, const std::string& path,
                              int depth);
  Result<ExprId> compile_string(const nlohmann::ordered_json& s, const std::string& path);
  Result<ExprId> compile_numeric(bool integer, const nlohmann::ordered_json& s, const std::string& path);
  Result<ExprId> compile_object(const nlohmann::ordered_json& s, const std::string& path, int depth);
  Result<ExprId> compile_array(const nlohmann::ordered_json& s, const std::string& path, int depth);
  // A rule for `s` (so that repeated uses share it).
  Result<ExprId> compile_as_rule(const nlohmann::ordered_json& s, const std::string& path, int depth,
                                 std::string_view hint);
  Result<const nlohmann::ordered_json*> resolve_ref(const nlohmann::ordered_json& s, const std::string& path) const;
  std::string rule_name(std::string_view hint) const;
  // A non-negative integer keyword (minLength, maxItems, ...), or `fallback` when absent.
  static Result<int64_t> count_keyword(const nlohmann::ordered_json& s, const char* key, int64_t fallback,
                                       const std::string& path);

  Grammar& g_;
  JsonSchemaOptions options_;
  JsonRules json_;
  const nlohmann::ordered_json* doc_ = nullptr;
  int32_t doc_index_ = 0;
  std::string name_;
  std::map<std::string, RuleId> ref_rules_;  // "<doc index>#<pointer>" -> rule
};

// root ::= ws <value valid against schema> ws
Result<Grammar> json_schema_grammar(const nlohmann::ordered_json& schema, const JsonSchemaOptions& options = {});
// The same from schema text (parse errors are kInvalidArgument); keeps the schema's key order.
Result<Grammar> json_schema_grammar_from_text(std::string_view schema_text,
                                              const JsonSchemaOptions& options = {});
// Any JSON object (response_format json_object): root ::= ws json-object ws
Grammar json_object_grammar(const JsonSchemaOptions& options = {});

}  // namespace inferd::engine

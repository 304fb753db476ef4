// The factories of include/inferd/structured_output.h: each builds (or finds in the per-model
// cache) a CompiledGrammar and wraps it in a GrammarConstraint.
#include "inferd/structured_output.h"

#include <fmt/format.h>

#include "chat/tool_call_format.h"
#include "engine/grammar/forced_call_grammar.h"
#include "engine/grammar/gbnf_parser.h"
#include "engine/grammar/grammar_constraint.h"
#include "engine/grammar/json_schema_compiler.h"
#include "engine/grammar/model_grammar_cache.h"

namespace inferd {
namespace {

using engine::Grammar;
using engine::GrammarVocab;
using Json = nlohmann::ordered_json;

// `j` as compact text, the cache key of a schema. Errors on strings that are not UTF-8 (which
// JSON text cannot carry).
Result<std::string> json_key(const Json& j, std::string_view what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception&) {
    return invalid_argument("{} holds a string that is not valid UTF-8", what);
  }
}

Result<std::unique_ptr<TokenConstraint>> make_constraint(
    const Model& model, const std::string& key,
    const engine::ModelGrammarCache::GrammarBuilder& build) {
  auto compiled = engine::ModelGrammarCache::global().grammar(model, key, build);
  if (!compiled.ok()) return Status(StatusCode::kInvalidArgument, compiled.status().message());
  return std::unique_ptr<TokenConstraint>(std::make_unique<engine::GrammarConstraint>(*compiled));
}

}  // namespace

Result<std::unique_ptr<TokenConstraint>> json_object_constraint(const Model& model) {
  return make_constraint(model, "json_object", [](const GrammarVocab&) -> Result<Grammar> {
    return engine::json_object_grammar();
  });
}

Result<std::unique_ptr<TokenConstraint>> json_schema_constraint(const Model& model,
                                                                const Json& schema) {
  INFERD_ASSIGN_OR_RETURN(const std::string text, json_key(schema, "the JSON Schema"));
  return make_constraint(model, "json_schema\n" + text,
                         [&](const GrammarVocab&) { return engine::json_schema_grammar(schema); });
}

Result<std::unique_ptr<TokenConstraint>> tool_call_constraint(const Model& model,
                                                              chat::OutputFormat format,
                                                              std::span<const ToolSchema> tools) {
  std::string key = fmt::format("tool_call\n{}", chat::output_format_name(format));
  for (const ToolSchema& tool : tools) {
    INFERD_ASSIGN_OR_RETURN(
        const std::string params,
        json_key(tool.parameters, fmt::format("tool \"{}\" parameters", tool.name)));
    INFERD_ASSIGN_OR_RETURN(const std::string name, json_key(Json(tool.name), "a tool name"));
    key += fmt::format("\n{}\n{}", name, params);
  }
  return make_constraint(model, key, [&](const GrammarVocab& vocab) {
    return engine::forced_call_grammar(vocab, format, tools);
  });
}

Result<std::unique_ptr<TokenConstraint>> gbnf_constraint(const Model& model,
                                                         std::string_view gbnf) {
  return make_constraint(model, fmt::format("gbnf\n{}", gbnf),
                         [&](const GrammarVocab&) { return engine::parse_gbnf(gbnf); });
}

}  // namespace inferd

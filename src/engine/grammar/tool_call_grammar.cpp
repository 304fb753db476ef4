#include "engine/grammar/tool_call_grammar.h"

#include <fmt/format.h>

#include <set>

#include "engine/grammar/gbnf_parser.h"

namespace inferd::engine {
namespace {

// `s` as a JSON string literal (invalid UTF-8 replaced rather than thrown on).
std::string json_text(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

ToolCallFormat ToolCallFormat::hermes() {
  ToolCallFormat f;
  f.begin = "json-ws";
  f.end = "json-ws";
  f.call_begin = "\"<tool_call>\" json-ws";
  f.call_end = "json-ws \"</tool_call>\"";
  f.separator = "json-ws";
  return f;
}

ToolCallFormat ToolCallFormat::mistral(bool control_token) {
  ToolCallFormat f;
  f.begin = control_token ? "@\"[TOOL_CALLS]\" json-ws \"[\" json-ws" : "\"[TOOL_CALLS]\" json-ws \"[\" json-ws";
  f.end = "json-ws \"]\"";
  f.separator = "json-ws \",\" json-ws";
  return f;
}

ToolCallFormat ToolCallFormat::llama3_json() {
  ToolCallFormat f;
  f.begin = "json-ws";
  f.end = "json-ws";
  f.separator = "json-ws \";\" json-ws";
  f.arguments_key = "parameters";
  return f;
}

Result<Grammar> tool_call_grammar(std::span<const ToolDefinition> tools, const ToolCallGrammarOptions& options) {
  if (tools.empty()) return invalid_argument("no tools to call");
  Grammar g;
  JsonSchemaCompiler compiler(g, options.json);
  JsonRules& json = compiler.json();
  const ExprId ws = json.ws();
  const ToolCallFormat& f = options.format;
  std::set<std::string> seen;
  std::vector<ExprId> calls;
  for (const ToolDefinition& tool : tools) {
    if (tool.name.empty()) return invalid_argument("a tool has an empty name");
    if (!seen.insert(tool.name).second) return invalid_argument("tool \"{}\" is defined twice", tool.name);
    ExprId arguments;
    if (tool.parameters.is_null() || (tool.parameters.is_object() && tool.parameters.empty())) {
      arguments = json.object();
    } else {
      Result<RuleId> rule = compiler.add_schema(tool.parameters, "tool-" + tool.name);
      if (!rule.ok())
        return Status(rule.status().code(), fmt::format("tool \"{}\" parameters: {}", tool.name, rule.status().message()));
      arguments = g.ref(*rule);
    }
    const ExprId name_member = g.sequence({g.literal(json_text(f.name_key)), ws, g.literal(":"), ws,
                                           g.literal(json_text(tool.name))});
    const ExprId args_member = g.sequence({g.literal(json_text(f.arguments_key)), ws, g.literal(":"), ws, arguments});
    calls.push_back(g.sequence({g.literal("{"), ws, name_member, ws, g.literal(","), ws, args_member, ws,
                                g.literal("}")}));
  }
  const std::string call_rule = g.unique_rule_name("tool-call");
  g.add_rule(call_rule, g.choice(std::move(calls)));
  auto piece = [](const std::string& gbnf) { return gbnf.empty() ? std::string("\"\"") : gbnf; };
  const std::string one = fmt::format("( {} ) {} ( {} )", piece(f.call_begin), call_rule, piece(f.call_end));
  const std::string text =
      options.parallel
          ? fmt::format("root ::= ( {} ) {} ( ( {} ) {} )* ( {} )\n", piece(f.begin), one, piece(f.separator), one,
                        piece(f.end))
          : fmt::format("root ::= ( {} ) {} ( {} )\n", piece(f.begin), one, piece(f.end));
  const Status st = parse_gbnf_into(text, g);
  if (!st.ok()) return invalid_argument("tool-call format is not valid GBNF: {}", st.message());
  g.set_root(g.find_rule("root"));
  INFERD_RETURN_IF_ERROR(g.validate());
  return g;
}

}  // namespace inferd::engine

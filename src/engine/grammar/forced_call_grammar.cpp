#include "engine/grammar/forced_call_grammar.h"

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/tool_call_format.h"
#include "engine/grammar/json_schema_compiler.h"

namespace inferd::engine {

ExprId text_with_control_tokens(Grammar& g, const GrammarVocab& vocab, std::string_view text) {
  std::vector<TokenId> controls;
  for (TokenId id = 0; id < vocab.size(); ++id)
    if (vocab.is_special(id) && !vocab.is_eog(id) && !vocab.bytes(id).empty())
      controls.push_back(id);
  std::vector<ExprId> parts;
  size_t literal_begin = 0;
  for (size_t pos = 0; pos < text.size();) {
    TokenId best = -1;
    size_t best_len = 0;
    for (TokenId id : controls) {
      const std::string_view t = vocab.bytes(id);
      if (t.size() > best_len && text.substr(pos).starts_with(t)) {
        best = id;
        best_len = t.size();
      }
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    if (pos > literal_begin)
      parts.push_back(g.literal(text.substr(literal_begin, pos - literal_begin)));
    parts.push_back(g.token_id(best));
    pos += best_len;
    literal_begin = pos;
  }
  if (literal_begin < text.size()) parts.push_back(g.literal(text.substr(literal_begin)));
  return g.sequence(std::move(parts));
}

Result<Grammar> forced_call_grammar(const GrammarVocab& vocab, chat::OutputFormat format,
                                    std::span<const ToolSchema> tools) {
  if (tools.empty()) return invalid_argument("no tools to call");
  Grammar g;
  JsonSchemaCompiler compiler(g);
  std::set<std::string> seen;
  std::vector<ExprId> calls;
  for (const ToolSchema& tool : tools) {
    if (tool.name.empty()) return invalid_argument("a tool has an empty name");
    if (!seen.insert(tool.name).second)
      return invalid_argument("tool \"{}\" is defined twice", tool.name);
    const nlohmann::ordered_json& params = tool.parameters;
    ExprId arguments;
    if (params.is_null() || (params.is_object() && params.empty())) {
      arguments = compiler.json().object();
    } else {
      if (!params.is_object() || (params.contains("type") && params["type"] != "object"))
        return invalid_argument(
            "tool \"{}\" parameters: the schema must describe an object (\"type\": \"object\")",
            tool.name);
      auto rule = compiler.add_schema(params, "tool-" + tool.name);
      if (!rule.ok())
        return invalid_argument("tool \"{}\" parameters: {}", tool.name, rule.status().message());
      arguments = g.ref(*rule);
    }
    const chat::ForcedCallText text = chat::forced_call_text(format, tool.name);
    calls.push_back(
        g.sequence({text_with_control_tokens(g, vocab, text.before_arguments), arguments,
                    text_with_control_tokens(g, vocab, text.after_arguments)}));
  }
  g.set_root(g.add_rule("root", g.choice(std::move(calls))));
  INFERD_RETURN_IF_ERROR(g.validate());
  return g;
}

}  // namespace inferd::engine

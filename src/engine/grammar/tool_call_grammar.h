// Grammars that force a model's tool-call syntax (tool_choice "required", or a named function:
// pass only that tool). Each call is a JSON object {"<name_key>": "<tool name>",
// "<arguments_key>": <arguments valid against the tool's parameters schema>}, name first; the
// format says what surrounds the calls.
//
// Format pieces are GBNF expressions (gbnf_parser.h); they may use the rule json-ws (bounded
// whitespace) and token elements such as @"[TOOL_CALLS]" for control tokens.
#pragma once

#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "engine/grammar/grammar.h"
#include "engine/grammar/json_schema_compiler.h"

namespace inferd::engine {

struct ToolDefinition {
  std::string name;
  // JSON Schema of the arguments object; null or {} allows any object.
  nlohmann::ordered_json parameters;
};

struct ToolCallFormat {
  std::string begin;       // before all calls
  std::string end;         // after all calls
  std::string call_begin;  // before each call
  std::string call_end;    // after each call
  std::string separator;   // between calls
  std::string name_key = "name";
  std::string arguments_key = "arguments";

  // Hermes 2 Pro / Qwen 2.5: <tool_call>\n{"name": ..., "arguments": ...}\n</tool_call>, one block
  // per call.
  static ToolCallFormat hermes();
  // Mistral: [TOOL_CALLS][{"name": ..., "arguments": ...}, ...]. `control_token`: [TOOL_CALLS] is
  // the vocabulary's control token (else it is spelled as text).
  static ToolCallFormat mistral(bool control_token);
  // Llama 3.1 / 3.2 JSON tool calling: {"name": ..., "parameters": ...}.
  static ToolCallFormat llama3_json();
};

struct ToolCallGrammarOptions {
  ToolCallFormat format = ToolCallFormat::hermes();
  // More than one call (parallel_tool_calls).
  bool parallel = true;
  JsonSchemaOptions json;
};

// Errors: no tools, an empty or repeated name, a parameters schema the compiler refuses (the
// message names the tool), a format piece that is not valid GBNF.
Result<Grammar> tool_call_grammar(std::span<const ToolDefinition> tools, const ToolCallGrammarOptions& options);

}  // namespace inferd::engine

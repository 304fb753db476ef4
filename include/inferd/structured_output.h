// Structured output: TokenConstraints (token_constraint.h) that make a model's output follow a
// JSON Schema, any JSON object, a forced tool call or a GBNF grammar. Put one in
// GenerationRequest::constraint; the engine masks disallowed tokens at every step and ends the
// request when the output is complete.
//
// Each call makes a fresh constraint for one request. The vocabulary analysis is done once per
// model and grammars are cached per model by their input (schema text, tools, GBNF text), so a
// repeated schema costs a cache lookup. Thread-safe: call from any thread.
//
// All errors are kInvalidArgument with a message naming the problem (for schemas: the keyword
// and its JSON-pointer path, e.g. `unsupported JSON Schema keyword "not" at #/properties/a`).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "inferd/engine.h"
#include "inferd/status.h"
#include "inferd/token_constraint.h"

namespace inferd {

namespace chat {
enum class OutputFormat : uint8_t;  // src/chat/tool_call_format.h
}

// One JSON object (response_format {"type": "json_object"}), with bounded whitespace around it.
Result<std::unique_ptr<TokenConstraint>> json_object_constraint(const Model& model);

// One JSON value valid against `schema` (response_format {"type": "json_schema"}), with bounded
// whitespace around it. The supported subset of JSON Schema is listed in
// src/engine/grammar/json_schema_compiler.h (objects, arrays, strings with lengths, patterns and
// formats, numeric ranges, enum/const, anyOf/oneOf/allOf, $ref); other keywords are errors.
// Properties are generated in the schema's order.
Result<std::unique_ptr<TokenConstraint>> json_schema_constraint(
    const Model& model, const nlohmann::ordered_json& schema);

// A tool the output may call: its name and the JSON Schema of its arguments object (null or {}
// for any object).
struct ToolSchema {
  std::string name;
  nlohmann::ordered_json parameters;
};

// Forced tool use: tool_choice "required" (pass every tool) or a named function (pass only that
// one). The output is exactly one call of one of `tools`, written as `format` writes a forced
// call (chat::forced_call_text: its text before the arguments, a JSON object valid against the
// tool's parameters, its text after), so the chat output parser reads it back as that call.
// Texts of control tokens in the format's pieces (such as [TOOL_CALLS]) must be produced as those
// tokens. Errors: no tools, an empty or repeated name, a parameters schema that is not an object
// schema or is outside the supported subset (the message names the tool).
Result<std::unique_ptr<TokenConstraint>> tool_call_constraint(const Model& model,
                                                              chat::OutputFormat format,
                                                              std::span<const ToolSchema> tools);

// Output matching a GBNF grammar (src/engine/grammar/gbnf_parser.h) from its rule "root".
Result<std::unique_ptr<TokenConstraint>> gbnf_constraint(const Model& model, std::string_view gbnf);

}  // namespace inferd

// POST /v1/chat/completions: the request, parsed and validated.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/api/json_body.h"
#include "server/api/openai/generation_fields.h"

namespace inferd::server::openai {

enum class ResponseFormat { kText, kJsonObject, kJsonSchema };
enum class ToolChoice { kNone, kAuto, kRequired, kFunction };

struct ChatRequest {
  GenerationFields gen;
  // Validated OpenAI messages (roles system, developer, user, assistant, tool), passed to the
  // chat template as they came, except that tool-call arguments given as objects are
  // re-encoded as JSON strings.
  Json messages;
  Json tools;                     // array of {type: "function", function: {...}}, or null
  ToolChoice tool_choice = ToolChoice::kAuto;
  std::string tool_choice_name;   // kFunction
  bool parallel_tool_calls = true;
  ResponseFormat response_format = ResponseFormat::kText;
  Json json_schema;               // kJsonSchema: the schema object
  bool logprobs = false;
  int top_logprobs = 0;
};

Result<ChatRequest> parse_chat_request(const Json& body);

}  // namespace inferd::server::openai

// OpenAI chat-completions shapes of parsed model output: the assistant message of a response, the
// `delta` objects of chat.completion.chunk events, and finish_reason.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/output_parser.h"

namespace inferd::chat {

// {"role": "assistant", "content": text or null, "reasoning_content": text (only when there is
// reasoning), "tool_calls": [{"id", "type": "function", "function": {"name", "arguments"}}]
// (only when there are calls)}. content is null when the message is only tool calls.
nlohmann::ordered_json openai_message(const ParsedOutput& output);

// The chunk deltas for a batch of events, in order. Adjacent content (or reasoning) events
// become one {"content": ...} ({"reasoning_content": ...}) delta; a call's start and the
// arguments that follow it become one
//   {"tool_calls": [{"index", "id", "type": "function", "function": {"name", "arguments"}}]}
// delta; arguments without a start in the same batch become
//   {"tool_calls": [{"index", "function": {"arguments"}}]}.
std::vector<nlohmann::ordered_json> openai_deltas(const OutputEvents& events);

// "tool_calls" when the generation produced at least one call, else the engine's reason
// ("stop", "length", ...).
std::string_view openai_finish_reason(size_t num_tool_calls, std::string_view engine_reason);

}  // namespace inferd::chat

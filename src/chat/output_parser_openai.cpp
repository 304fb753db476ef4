#include "chat/output_parser_openai.h"

#include <string>

namespace inferd::chat {

using json = nlohmann::ordered_json;

json openai_message(const ParsedOutput& output) {
  json message = json::object();
  message["role"] = "assistant";
  message["content"] = output.content_is_null() ? json(nullptr) : json(output.content);
  if (!output.reasoning.empty()) message["reasoning_content"] = output.reasoning;
  if (!output.tool_calls.empty()) {
    json calls = json::array();
    for (const ParsedToolCall& call : output.tool_calls) {
      calls.push_back(json{{"id", call.id},
                           {"type", "function"},
                           {"function", json{{"name", call.name}, {"arguments", call.arguments}}}});
    }
    message["tool_calls"] = std::move(calls);
  }
  return message;
}

std::vector<json> openai_deltas(const OutputEvents& events) {
  std::vector<json> deltas;
  for (size_t i = 0; i < events.size(); ++i) {
    const OutputEvent& event = events[i];
    switch (event.kind) {
      case OutputEventKind::kContent:
      case OutputEventKind::kReasoning: {
        std::string text = event.text;
        while (i + 1 < events.size() && events[i + 1].kind == event.kind) text += events[++i].text;
        const char* key = event.kind == OutputEventKind::kContent ? "content" : "reasoning_content";
        deltas.push_back(json{{key, std::move(text)}});
        break;
      }
      case OutputEventKind::kToolCallStart: {
        std::string arguments;
        while (i + 1 < events.size() && events[i + 1].kind == OutputEventKind::kToolCallArguments &&
               events[i + 1].tool_index == event.tool_index) {
          arguments += events[++i].text;
        }
        json call{{"index", event.tool_index},
                  {"id", event.id},
                  {"type", "function"},
                  {"function", json{{"name", event.name}, {"arguments", std::move(arguments)}}}};
        deltas.push_back(json{{"tool_calls", json::array({std::move(call)})}});
        break;
      }
      case OutputEventKind::kToolCallArguments: {
        json call{{"index", event.tool_index}, {"function", json{{"arguments", event.text}}}};
        deltas.push_back(json{{"tool_calls", json::array({std::move(call)})}});
        break;
      }
    }
  }
  return deltas;
}

std::string_view openai_finish_reason(size_t num_tool_calls, std::string_view engine_reason) {
  return num_tool_calls > 0 ? std::string_view("tool_calls") : engine_reason;
}

}  // namespace inferd::chat

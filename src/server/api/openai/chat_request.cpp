#include "server/api/openai/chat_request.h"

#include <fmt/format.h>

namespace inferd::server::openai {
namespace {

Status field_error(const std::string& path, const std::string& message) {
  return invalid_argument("'{}' {}", path, message).with_field(path);
}

Status check_content(const Json& content, const std::string& path) {
  if (content.is_string()) return {};
  if (!content.is_array()) return field_error(path, "must be a string or an array of content parts");
  for (size_t i = 0; i < content.size(); ++i) {
    const Json& part = content[i];
    const std::string p = fmt::format("{}[{}]", path, i);
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
      return field_error(p, "must be an object with a \"type\"");
    const std::string type = part["type"];
    if (type == "text") {
      if (!part.contains("text") || !part["text"].is_string()) return field_error(p + ".text", "must be a string");
    } else if (type == "image_url" || type == "input_audio" || type == "file") {
      return unsupported("content parts of type '{}' are not supported by this model", type).with_field(p + ".type");
    } else {
      return field_error(p + ".type", fmt::format("has unknown content part type '{}'", type));
    }
  }
  return {};
}

Status check_tool_calls(Json& calls, const std::string& path) {
  if (!calls.is_array()) return field_error(path, "must be an array");
  for (size_t i = 0; i < calls.size(); ++i) {
    Json& c = calls[i];
    const std::string p = fmt::format("{}[{}]", path, i);
    if (!c.is_object()) return field_error(p, "must be an object");
    if (!c.contains("function") || !c["function"].is_object()) return field_error(p + ".function", "must be an object");
    Json& fn = c["function"];
    if (!fn.contains("name") || !fn["name"].is_string()) return field_error(p + ".function.name", "must be a string");
    if (!fn.contains("arguments") || fn["arguments"].is_null()) {
      fn["arguments"] = "{}";
    } else if (fn["arguments"].is_object()) {
      fn["arguments"] = dump_json(fn["arguments"]);
    } else if (!fn["arguments"].is_string()) {
      return field_error(p + ".function.arguments", "must be a JSON-encoded string");
    }
    if (c.contains("id") && !c["id"].is_string()) return field_error(p + ".id", "must be a string");
  }
  return {};
}

Status check_messages(Json& messages) {
  if (!messages.is_array()) return field_error("messages", "must be an array of messages");
  if (messages.empty()) return field_error("messages", "must not be empty");
  for (size_t i = 0; i < messages.size(); ++i) {
    Json& m = messages[i];
    const std::string p = fmt::format("messages[{}]", i);
    if (!m.is_object()) return field_error(p, "must be an object");
    if (!m.contains("role") || !m["role"].is_string()) return field_error(p + ".role", "must be a string");
    const std::string role = m["role"];
    if (role != "system" && role != "developer" && role != "user" && role != "assistant" && role != "tool")
      return field_error(p + ".role", fmt::format("has unknown role '{}' (system, developer, user, assistant, tool)", role));
    const bool has_calls = m.contains("tool_calls") && !m["tool_calls"].is_null();
    if (has_calls) {
      if (role != "assistant") return field_error(p + ".tool_calls", "is only allowed on assistant messages");
      INFERD_RETURN_IF_ERROR(check_tool_calls(m["tool_calls"], p + ".tool_calls"));
    }
    if (!m.contains("content") || m["content"].is_null()) {
      if (role != "assistant") return field_error(p + ".content", "is required");
      m["content"] = has_calls ? Json(nullptr) : Json("");
    } else {
      INFERD_RETURN_IF_ERROR(check_content(m["content"], p + ".content"));
    }
    if (m.contains("name") && !m["name"].is_string()) return field_error(p + ".name", "must be a string");
    if (m.contains("tool_call_id") && !m["tool_call_id"].is_string())
      return field_error(p + ".tool_call_id", "must be a string");
  }
  return {};
}

Status read_tools(const FieldReader& r, ChatRequest* out) {
  if (const Json* tools = r.find("tools")) {
    if (!tools->is_array()) return r.error("tools", "must be an array");
    for (size_t i = 0; i < tools->size(); ++i) {
      const Json& t = (*tools)[i];
      const std::string p = fmt::format("tools[{}]", i);
      if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") || !t["function"].is_object())
        return field_error(p, "must be {\"type\": \"function\", \"function\": {...}}");
      const Json& fn = t["function"];
      if (!fn.contains("name") || !fn["name"].is_string() || fn["name"].get<std::string>().empty())
        return field_error(p + ".function.name", "must be a non-empty string");
      if (fn.contains("parameters") && !fn["parameters"].is_object())
        return field_error(p + ".function.parameters", "must be a JSON Schema object");
    }
    if (!tools->empty()) out->tools = *tools;
  }
  if (const Json* choice = r.find("tool_choice")) {
    if (choice->is_string()) {
      const std::string c = *choice;
      if (c == "none") out->tool_choice = ToolChoice::kNone;
      else if (c == "auto") out->tool_choice = ToolChoice::kAuto;
      else if (c == "required") out->tool_choice = ToolChoice::kRequired;
      else return r.error("tool_choice", "must be \"none\", \"auto\", \"required\" or a function");
    } else if (choice->is_object() && choice->contains("function") && (*choice)["function"].is_object() &&
               (*choice)["function"].contains("name") && (*choice)["function"]["name"].is_string()) {
      out->tool_choice = ToolChoice::kFunction;
      out->tool_choice_name = (*choice)["function"]["name"];
      bool known = false;
      for (const auto& t : out->tools) known = known || t["function"]["name"] == out->tool_choice_name;
      if (!known) return r.error("tool_choice", fmt::format("names function '{}', which is not in 'tools'", out->tool_choice_name));
    } else {
      return r.error("tool_choice", "must be a string or {\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
    if ((out->tool_choice == ToolChoice::kRequired) && out->tools.is_null())
      return r.error("tool_choice", "is \"required\" but no tools are given");
  }
  return r.boolean("parallel_tool_calls", &out->parallel_tool_calls);
}

Status read_response_format(const FieldReader& r, ChatRequest* out) {
  const Json* rf = r.find("response_format");
  if (!rf) return {};
  if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
    return r.error("response_format", "must be an object with a \"type\"");
  const std::string type = (*rf)["type"];
  if (type == "text") return {};
  if (type == "json_object") {
    out->response_format = ResponseFormat::kJsonObject;
    return {};
  }
  if (type != "json_schema")
    return r.error("response_format", fmt::format("has unknown type '{}' (text, json_object, json_schema)", type));
  const auto it = rf->find("json_schema");
  if (it == rf->end() || !it->is_object()) return field_error("response_format.json_schema", "must be an object");
  const auto schema = it->find("schema");
  if (schema == it->end() || !(schema->is_object() || schema->is_boolean()))
    return field_error("response_format.json_schema.schema", "must be a JSON Schema object");
  out->response_format = ResponseFormat::kJsonSchema;
  out->json_schema = *schema;
  return {};
}

}  // namespace

Result<ChatRequest> parse_chat_request(const Json& body) {
  ChatRequest req;
  const FieldReader r(body, "");
  INFERD_RETURN_IF_ERROR(read_generation_fields(body, 1, &req.gen));
  if (!r.find("messages")) return r.error("messages", "is required");
  req.messages = body["messages"];
  INFERD_RETURN_IF_ERROR(check_messages(req.messages));
  INFERD_RETURN_IF_ERROR(read_tools(r, &req));
  INFERD_RETURN_IF_ERROR(read_response_format(r, &req));
  INFERD_RETURN_IF_ERROR(r.boolean("logprobs", &req.logprobs));
  int64_t top = 0;
  INFERD_RETURN_IF_ERROR(r.integer("top_logprobs", 0, SamplingParams::kMaxTopLogprobs, &top));
  if (top > 0 && !req.logprobs) return r.error("top_logprobs", "requires 'logprobs' to be true");
  req.top_logprobs = static_cast<int>(top);
  req.gen.sampling.logprobs = req.logprobs;
  req.gen.sampling.num_top_logprobs = req.top_logprobs;
  return req;
}

}  // namespace inferd::server::openai

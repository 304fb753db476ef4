#include "chat/chat_messages.h"

#include <set>
#include <string>

#include "chat/jinja/ast_walk.h"
#include "chat/jinja/json_value.h"

namespace inferd::chat {
namespace {

using json = nlohmann::ordered_json;

Result<std::string> join_text_parts(const json& parts, size_t message_index) {
  std::string text;
  for (const json& part : parts) {
    if (!part.is_object()) {
      return invalid_argument("messages[{}].content: content parts must be objects", message_index);
    }
    const auto type = part.find("type");
    const std::string type_name =
        (type != part.end() && type->is_string()) ? type->get<std::string>() : std::string();
    if (type_name != "text") {
      return unsupported("messages[{}].content: content part type '{}' is not supported",
                         message_index, type_name);
    }
    const auto t = part.find("text");
    if (t == part.end() || !t->is_string()) {
      return invalid_argument("messages[{}].content: text part without a string 'text'",
                              message_index);
    }
    text += t->get<std::string>();
  }
  return text;
}

// Tool-call arguments as the template wants them (see ChatTemplateCaps::object_arguments).
Result<jinja::Value> convert_arguments(const json& arguments, const ChatTemplateCaps& caps,
                                       uint32_t max_depth) {
  if (caps.object_arguments && arguments.is_string()) {
    const json parsed =
        json::parse(arguments.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) return jinja::value_from_json(parsed, max_depth);
  } else if (!caps.object_arguments && arguments.is_object()) {
    // Python's json.dumps layout (", " and ": "), which templates reproduce verbatim.
    INFERD_ASSIGN_OR_RETURN(jinja::Value value, jinja::value_from_json(arguments, max_depth));
    INFERD_ASSIGN_OR_RETURN(std::string text,
                            jinja::json_dumps(value, jinja::JsonDumpOptions(), 16u << 20));
    return jinja::Value::string(std::move(text));
  }
  return jinja::value_from_json(arguments, max_depth);
}

// Converts a JSON object member by member; `convert_member` handles the members it knows.
template <typename F>
Result<jinja::Value> convert_object(const json& object, uint32_t max_depth, F convert_member) {
  if (max_depth == 0) return invalid_argument("JSON value nested too deeply");
  auto dict = std::make_shared<jinja::DictData>();
  for (const auto& [key, value] : object.items()) {
    INFERD_ASSIGN_OR_RETURN(jinja::Value v, convert_member(key, value, max_depth - 1));
    INFERD_RETURN_IF_ERROR(dict->set(jinja::Value::string(key), std::move(v)));
  }
  return jinja::Value::dict(std::move(dict));
}

Result<jinja::Value> convert_tool_calls(const json& calls, const ChatTemplateCaps& caps,
                                        uint32_t max_depth) {
  if (max_depth == 0) return invalid_argument("JSON value nested too deeply");
  std::vector<jinja::Value> items;
  for (const json& call : calls) {
    if (!call.is_object()) {
      INFERD_ASSIGN_OR_RETURN(jinja::Value v, jinja::value_from_json(call, max_depth - 1));
      items.push_back(std::move(v));
      continue;
    }
    INFERD_ASSIGN_OR_RETURN(
        jinja::Value v,
        convert_object(
            call, max_depth - 1,
            [&](const std::string& key, const json& value, uint32_t depth) -> Result<jinja::Value> {
              if (key != "function" || !value.is_object())
                return jinja::value_from_json(value, depth);
              return convert_object(value, depth,
                                    [&](const std::string& k, const json& v2, uint32_t d2) {
                                      return k == "arguments" ? convert_arguments(v2, caps, d2)
                                                              : jinja::value_from_json(v2, d2);
                                    });
            }));
    items.push_back(std::move(v));
  }
  return jinja::Value::list(std::move(items));
}

// A message with content parts joined and tool-call arguments converted. Converts straight from
// the request JSON (never copies it: nlohmann copies recurse, and request JSON is untrusted).
Result<jinja::Value> convert_message(const json& message, const ChatTemplateCaps& caps,
                                     size_t index, uint32_t max_depth) {
  if (!message.is_object()) return invalid_argument("messages[{}] must be an object", index);
  return convert_object(
      message, max_depth,
      [&](const std::string& key, const json& value, uint32_t depth) -> Result<jinja::Value> {
        if (key == "content" && value.is_array() && !caps.iterates_content) {
          INFERD_ASSIGN_OR_RETURN(std::string text, join_text_parts(value, index));
          return jinja::Value::string(std::move(text));
        }
        if (key == "tool_calls" && value.is_array()) return convert_tool_calls(value, caps, depth);
        return jinja::value_from_json(value, depth);
      });
}

bool is_content_access(const jinja::Expr& e) {
  if (e.kind == jinja::ExprKind::kGetattr) {
    return static_cast<const jinja::GetattrExpr&>(e).attr == "content";
  }
  if (e.kind == jinja::ExprKind::kGetitem) {
    const auto& key = *static_cast<const jinja::GetitemExpr&>(e).key;
    if (key.kind != jinja::ExprKind::kConst) return false;
    const jinja::Value& v = static_cast<const jinja::ConstExpr&>(key).value;
    return v.is_string() && v.as_string() == "content";
  }
  return false;
}

}  // namespace

Result<jinja::Value> messages_to_value(const json& messages, const ChatTemplateCaps& caps,
                                       uint32_t max_depth) {
  if (!messages.is_array()) return invalid_argument("messages must be an array");
  if (max_depth == 0) return invalid_argument("JSON value nested too deeply");
  std::vector<jinja::Value> items;
  items.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    INFERD_ASSIGN_OR_RETURN(jinja::Value m, convert_message(messages[i], caps, i, max_depth - 1));
    items.push_back(std::move(m));
  }
  return jinja::Value::list(std::move(items));
}

bool template_iterates_content(const jinja::TemplateAst& ast) {
  // Two passes: names set from content accesses, then for-loops over them.
  class Collector : public jinja::AstVisitor {
   public:
    bool visit_stmt(const jinja::Stmt& s, bool) override {
      if (s.kind == jinja::StmtKind::kSet) {
        const auto& set = static_cast<const jinja::SetStmt&>(s);
        if (set.target->kind == jinja::ExprKind::kName && is_content_access(*set.value)) {
          names.insert(static_cast<const jinja::NameExpr&>(*set.target).name);
        }
      }
      if (s.kind == jinja::StmtKind::kFor) loops.push_back(static_cast<const jinja::ForStmt*>(&s));
      return true;
    }
    std::set<std::string> names;
    std::vector<const jinja::ForStmt*> loops;
  };
  Collector collector;
  jinja::walk(ast.body, collector);
  for (const jinja::ForStmt* loop : collector.loops) {
    const jinja::Expr& iter = *loop->iter;
    if (is_content_access(iter)) return true;
    if (iter.kind == jinja::ExprKind::kName &&
        collector.names.count(static_cast<const jinja::NameExpr&>(iter).name) > 0) {
      return true;
    }
  }
  return false;
}

bool template_wants_object_arguments(const jinja::Template& tmpl) {
  static constexpr std::string_view kJsonText = R"({"probe_argument": "probe_value"})";
  static constexpr std::string_view kReprText = R"({'probe_argument': 'probe_value'})";
  const json probe_tools = json::parse(R"([{"type": "function", "function": {
      "name": "probe_function", "description": "Probe.",
      "parameters": {"type": "object", "properties": {"probe_argument": {"type": "string",
                     "description": "Probe."}}, "required": ["probe_argument"]}}}])");
  auto render_probe = [&](const json& arguments, const json& tools) -> std::string {
    json messages = json::array();
    messages.push_back({{"role", "user"}, {"content", "probe"}});
    json call = {{"id", "call00001"},
                 {"type", "function"},
                 {"function", {{"name", "probe_function"}, {"arguments", arguments}}}};
    messages.push_back(
        {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array({call})}});
    json vars = {{"messages", messages},           {"tools", tools},  {"documents", nullptr},
                 {"add_generation_prompt", false}, {"bos_token", ""}, {"eos_token", ""}};
    jinja::RenderOptions options;
    options.now = 0;
    options.limits.max_steps = 2'000'000;
    auto out = tmpl.render_json(vars, options);
    return out.ok() ? *out : std::string();
  };
  // Probed without and with a tool list: some templates only render tool calls in one case.
  for (const json& tools : {json(nullptr), probe_tools}) {
    const std::string as_string = render_probe(json(std::string(kJsonText)), tools);
    const std::string as_object = render_probe(json::parse(kJsonText), tools);
    const bool renders_string = as_string.find(kJsonText) != std::string::npos;
    const bool renders_object = as_object.find(kJsonText) != std::string::npos ||
                                as_object.find(kReprText) != std::string::npos;
    if (renders_object && !renders_string) return true;
  }
  return false;
}

}  // namespace inferd::chat

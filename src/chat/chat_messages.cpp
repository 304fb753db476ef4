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

// The message with content joined and tool-call arguments converted, as JSON.
Result<json> normalize_message(const json& message, const ChatTemplateCaps& caps, size_t index) {
  if (!message.is_object()) return invalid_argument("messages[{}] must be an object", index);
  json out = message;
  auto content = out.find("content");
  if (content != out.end() && content->is_array() && !caps.iterates_content) {
    INFERD_ASSIGN_OR_RETURN(std::string text, join_text_parts(*content, index));
    *content = std::move(text);
  }
  auto tool_calls = out.find("tool_calls");
  if (tool_calls != out.end() && tool_calls->is_array()) {
    for (json& call : *tool_calls) {
      if (!call.is_object()) continue;
      auto function = call.find("function");
      if (function == call.end() || !function->is_object()) continue;
      auto arguments = function->find("arguments");
      if (arguments == function->end()) continue;
      if (caps.object_arguments && arguments->is_string()) {
        json parsed = json::parse(arguments->get<std::string>(), nullptr, /*allow_exceptions=*/false);
        if (parsed.is_object()) *arguments = std::move(parsed);
      } else if (!caps.object_arguments && arguments->is_object()) {
        // Python's json.dumps layout (", " and ": "), which templates reproduce verbatim.
        jinja::JsonDumpOptions options;
        auto value = jinja::value_from_json(*arguments, 256);
        if (!value.ok()) return value.status();
        auto text = jinja::json_dumps(*value, options, 16u << 20);
        if (!text.ok()) return text.status();
        *arguments = *text;
      }
    }
  }
  return out;
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
  json normalized = json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    INFERD_ASSIGN_OR_RETURN(json m, normalize_message(messages[i], caps, i));
    normalized.push_back(std::move(m));
  }
  return jinja::value_from_json(normalized, max_depth);
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
  auto render_probe = [&](const json& arguments) -> std::string {
    json messages = json::array();
    messages.push_back({{"role", "user"}, {"content", "probe"}});
    json call = {{"id", "call00001"},
                 {"type", "function"},
                 {"function", {{"name", "probe_function"}, {"arguments", arguments}}}};
    messages.push_back({{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array({call})}});
    json vars = {{"messages", messages},  {"tools", nullptr},      {"documents", nullptr},
                 {"add_generation_prompt", false}, {"bos_token", ""}, {"eos_token", ""}};
    jinja::RenderOptions options;
    options.now = 0;
    options.limits.max_steps = 2'000'000;
    auto out = tmpl.render_json(vars, options);
    return out.ok() ? *out : std::string();
  };
  const std::string as_string = render_probe(json(std::string(kJsonText)));
  const std::string as_object = render_probe(json::parse(kJsonText));
  const bool renders_string = as_string.find(kJsonText) != std::string::npos;
  const bool renders_object = as_object.find(kJsonText) != std::string::npos ||
                              as_object.find(kReprText) != std::string::npos;
  return renders_object && !renders_string;
}

}  // namespace inferd::chat

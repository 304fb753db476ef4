#include "chat/jinja/template.h"

#include "chat/jinja/context.h"
#include "chat/jinja/json_value.h"
#include "chat/jinja/parser.h"

namespace inferd::chat::jinja {

Result<Template> Template::parse(std::string_view source, const TemplateOptions& options) {
  INFERD_ASSIGN_OR_RETURN(TemplateAst ast, parse_template(source, options.lexer, options.limits));
  return Template(std::make_shared<const TemplateAst>(std::move(ast)));
}

Result<std::string> Template::render(std::vector<std::pair<std::string, Value>> variables,
                                     const RenderOptions& options) const {
  const std::time_t now = options.now.value_or(std::time(nullptr));
  Context ctx(*ast_, options.limits, now);
  return ctx.render(std::move(variables));
}

Result<std::string> Template::render_json(const nlohmann::ordered_json& variables,
                                          const RenderOptions& options) const {
  if (!variables.is_object()) return invalid_argument("template variables must be a JSON object");
  std::vector<std::pair<std::string, Value>> vars;
  for (const auto& [key, value] : variables.items()) {
    INFERD_ASSIGN_OR_RETURN(Value v, value_from_json(value, options.limits.max_value_depth));
    vars.emplace_back(key, std::move(v));
  }
  return render(std::move(vars), options);
}

}  // namespace inferd::chat::jinja

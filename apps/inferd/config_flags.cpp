#include "config_flags.h"

#include <fmt/format.h>

#include "server/config/config_field.h"

namespace inferd::cli {

using server::ConfigField;
using server::FieldRef;
using server::ServeConfig;

namespace {

// The flag's long name ("--port" of "-p,--port").
std::string long_name(const char* flag) {
  const std::string f(flag);
  const auto at = f.find("--");
  return at == std::string::npos ? f : f.substr(at);
}

}  // namespace

ConfigFlags::ConfigFlags(CLI::App& cmd) : values_(server::serve_fields().size()) {
  ServeConfig defaults;
  for (size_t i = 0; i < values_.size(); ++i) {
    const ConfigField<ServeConfig>& f = server::serve_fields()[i];
    if (!f.flag) continue;
    const FieldRef ref = f.ref(defaults);
    std::string help = f.help;
    if (f.path) help += fmt::format(" [config: {}]", f.path);
    if (f.env) help += fmt::format(" [env: {}]", f.env);
    Value& v = values_[i];
    if (std::holds_alternative<bool*>(ref)) {
      if (long_name(f.flag).starts_with("--no-")) help = "Turn off: " + help;
      v.option = cmd.add_flag(f.flag, v.set, help);
    } else if (std::holds_alternative<std::vector<std::string>*>(ref)) {
      v.option = cmd.add_option(f.flag, v.list, help);
    } else {
      v.option = cmd.add_option(f.flag, v.text, help);
      if (std::holds_alternative<int64_t*>(ref) ||
          std::holds_alternative<std::optional<int64_t>*>(ref))
        v.option->type_name("INT");
      else if (std::holds_alternative<double*>(ref) ||
               std::holds_alternative<std::optional<double>*>(ref))
        v.option->type_name("NUMBER");
      const std::string def = server::field_to_text(ref);
      if (!def.empty()) v.option->default_str(def);
    }
  }
}

Status ConfigFlags::apply(ServeConfig* config) const {
  for (size_t i = 0; i < values_.size(); ++i) {
    const Value& v = values_[i];
    if (!v.option || v.option->count() == 0) continue;
    const ConfigField<ServeConfig>& f = server::serve_fields()[i];
    const FieldRef ref = f.ref(*config);
    const std::string name = long_name(f.flag);
    if (auto* b = std::get_if<bool*>(&ref)) {
      **b = !name.starts_with("--no-");
    } else if (auto* list = std::get_if<std::vector<std::string>*>(&ref)) {
      **list = v.list;
    } else if (Status st = server::set_field_from_text(ref, v.text, f.min, f.max); !st.ok()) {
      return invalid_argument("{}: {}", name, st.message());
    }
  }
  return {};
}

}  // namespace inferd::cli

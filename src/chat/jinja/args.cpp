#include "chat/jinja/args.h"

namespace inferd::chat::jinja {

Result<std::vector<Value>> bind_args(std::string_view function, const CallArgs& args,
                                     std::initializer_list<Param> params) {
  const std::vector<Param> ps(params);
  if (args.positional.size() > ps.size()) {
    return invalid_argument("{}() takes at most {} argument(s) ({} given)", function, ps.size(),
                            args.positional.size());
  }
  std::vector<Value> out(ps.size());
  std::vector<bool> given(ps.size(), false);
  for (size_t i = 0; i < args.positional.size(); ++i) {
    out[i] = args.positional[i];
    given[i] = true;
  }
  for (const auto& [name, value] : args.keywords) {
    size_t k = 0;
    while (k < ps.size() && ps[k].name != name) ++k;
    if (k == ps.size()) {
      return invalid_argument("{}() got an unexpected keyword argument '{}'", function, name);
    }
    if (given[k]) {
      return invalid_argument("{}() got multiple values for argument '{}'", function, name);
    }
    out[k] = value;
    given[k] = true;
  }
  for (size_t k = 0; k < ps.size(); ++k) {
    if (given[k]) continue;
    if (ps[k].required) {
      return invalid_argument("{}() missing required argument '{}'", function, ps[k].name);
    }
    out[k] = ps[k].default_value;
  }
  return out;
}

Status expect_no_args(std::string_view function, const CallArgs& args) {
  if (!args.positional.empty() || !args.keywords.empty()) {
    return invalid_argument("{}() takes no arguments", function);
  }
  return Status::ok_status();
}

}  // namespace inferd::chat::jinja

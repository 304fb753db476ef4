#include "server/auth/scope_set.h"

namespace inferd::server::auth {
namespace {

constexpr AuthScope kGrantable[] = {AuthScope::kInference, AuthScope::kSessions, AuthScope::kAdmin};

}  // namespace

Result<ScopeSet> ScopeSet::parse(const std::vector<std::string>& names) {
  ScopeSet s;
  for (const std::string& name : names) {
    bool known = false;
    for (AuthScope scope : kGrantable)
      if (name == auth_scope_name(scope)) s.add(scope), known = true;
    if (!known) return invalid_argument("unknown scope '{}' (scopes: inference, sessions, admin)", name);
  }
  return s;
}

std::vector<std::string> ScopeSet::names() const {
  std::vector<std::string> out;
  for (AuthScope scope : kGrantable)
    if (has(scope)) out.emplace_back(auth_scope_name(scope));
  return out;
}

}  // namespace inferd::server::auth

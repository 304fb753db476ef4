// ScopeSet: the scopes a credential grants (inference, sessions, admin), the same names as the
// routes' AuthScope tags. The admin scope grants every route; public routes need no scope.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/http/route_tags.h"

namespace inferd::server::auth {

class ScopeSet {
 public:
  constexpr ScopeSet() = default;
  static ScopeSet of(std::initializer_list<AuthScope> scopes) {
    ScopeSet s;
    for (AuthScope scope : scopes) s.add(scope);
    return s;
  }
  // "inference", "sessions", "admin"; errors name the unknown scope and the valid ones.
  static Result<ScopeSet> parse(const std::vector<std::string>& names);

  void add(AuthScope scope) { bits_ |= bit(scope); }
  bool has(AuthScope scope) const { return (bits_ & bit(scope)) != 0; }
  bool empty() const { return bits_ == 0; }
  // Whether a credential with these scopes may call a route tagged `required`.
  bool grants(AuthScope required) const {
    return required == AuthScope::kPublic || has(required) || has(AuthScope::kAdmin);
  }
  std::vector<std::string> names() const;
  bool operator==(const ScopeSet&) const = default;

 private:
  static constexpr uint8_t bit(AuthScope scope) { return uint8_t(1u << static_cast<unsigned>(scope)); }
  uint8_t bits_ = 0;
};

// The scopes a key gets when its creator names none.
inline ScopeSet default_key_scopes() { return ScopeSet::of({AuthScope::kInference, AuthScope::kSessions}); }

}  // namespace inferd::server::auth

#include "server/http/route_tags.h"

namespace inferd::server {

const char* auth_scope_name(AuthScope scope) {
  switch (scope) {
    case AuthScope::kPublic: return "public";
    case AuthScope::kInference: return "inference";
    case AuthScope::kSessions: return "sessions";
    case AuthScope::kAdmin: return "admin";
  }
  return "unknown";
}

const char* rate_class_name(RateClass rate_class) {
  switch (rate_class) {
    case RateClass::kUnlimited: return "unlimited";
    case RateClass::kLight: return "light";
    case RateClass::kInference: return "inference";
  }
  return "unknown";
}

}  // namespace inferd::server

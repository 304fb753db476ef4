#include "server/http/cors_policy.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "server/http/header_map.h"

namespace inferd::server {
namespace {

// Request headers a browser may send cross-origin: those of the OpenAI clients.
constexpr std::string_view kAllowedHeaders[] = {
    "Authorization",       "Content-Type",   "X-Request-Id", "X-Session-ID",
    "OpenAI-Organization", "OpenAI-Project", "OpenAI-Beta",
};
// The official SDKs' platform and retry fields (x-stainless-os, x-stainless-retry-count, ...).
constexpr std::string_view kAllowedHeaderPrefix = "x-stainless-";
constexpr std::string_view kExposedHeaders =
    "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool header_allowed(std::string_view name) {
  if (name.size() > kAllowedHeaderPrefix.size() &&
      iequals(name.substr(0, kAllowedHeaderPrefix.size()), kAllowedHeaderPrefix)) {
    return std::all_of(name.begin(), name.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-';
    });
  }
  return std::any_of(std::begin(kAllowedHeaders), std::end(kAllowedHeaders),
                     [&](std::string_view a) { return iequals(a, name); });
}

}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> allowed_origins) {
  for (std::string& o : allowed_origins) {
    if (o == "*") {
      any_origin_ = true;
    } else if (!o.empty()) {
      // "https://a.com/" and "https://a.com" are the same origin.
      while (!o.empty() && o.back() == '/') o.pop_back();
      origins_.push_back(to_lower(o));
    }
  }
}

bool CorsPolicy::allows(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any_origin_) return true;
  return std::any_of(origins_.begin(), origins_.end(),
                     [&](const std::string& o) { return iequals(o, origin); });
}

std::string CorsPolicy::response_fields(std::string_view origin) const {
  if (!allows(origin)) return {};
  return fmt::format(
      "Access-Control-Allow-Origin: {}\r\nVary: Origin\r\nAccess-Control-Expose-Headers: {}\r\n",
      origin, kExposedHeaders);
}

std::string CorsPolicy::preflight_fields(std::string_view allow_methods,
                                         std::optional<std::string_view> requested_headers) const {
  std::string headers;
  if (requested_headers) {
    std::string_view rest = *requested_headers;
    while (!rest.empty()) {
      const size_t comma = std::min(rest.find(','), rest.size());
      const std::string_view name = trim(rest.substr(0, comma));
      rest.remove_prefix(std::min(comma + 1, rest.size()));
      if (name.empty() || !header_allowed(name)) continue;
      if (!headers.empty()) headers += ", ";
      headers += name;
    }
  }
  if (headers.empty()) {
    for (std::string_view h : kAllowedHeaders) {
      if (!headers.empty()) headers += ", ";
      headers += h;
    }
  }
  return fmt::format(
      "Access-Control-Allow-Methods: {}\r\nAccess-Control-Allow-Headers: {}\r\n"
      "Access-Control-Max-Age: {}\r\n",
      allow_methods, headers, kMaxAgeS);
}

}  // namespace inferd::server

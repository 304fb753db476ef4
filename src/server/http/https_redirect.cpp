#include "server/http/https_redirect.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace inferd::server {
namespace {

constexpr size_t kMaxHostBytes = 253;

bool is_port(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

// A DNS name or IPv4 address: letters, digits, '-' and '.', no empty label.
bool is_reg_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxHostBytes || s.front() == '.' ||
      s.find("..") != std::string_view::npos)
    return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.';
  });
}

bool is_ipv6_literal(std::string_view s) {
  return !s.empty() && s.size() <= 45 && std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isxdigit(static_cast<unsigned char>(ch)) || ch == ':' || ch == '.';
  });
}

}  // namespace

Result<std::string> https_redirect_location(std::optional<std::string_view> host,
                                            std::string_view target, uint16_t https_port) {
  if (!host || host->empty()) return invalid_argument("the request has no Host field");
  if (target.empty() || target.front() != '/') {
    return invalid_argument("the request target must be a path (origin-form)");
  }
  std::string_view h = *host;
  std::string_view name;
  if (h.front() == '[') {
    const size_t close = h.find(']');
    if (close == std::string_view::npos || !is_ipv6_literal(h.substr(1, close - 1)))
      return invalid_argument("invalid Host field");
    name = h.substr(0, close + 1);
    const std::string_view rest = h.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && is_port(rest.substr(1))))
      return invalid_argument("invalid Host field");
  } else {
    const size_t colon = h.find(':');
    name = h.substr(0, colon);
    if (colon != std::string_view::npos && !is_port(h.substr(colon + 1)))
      return invalid_argument("invalid Host field");
    if (!is_reg_name(name)) return invalid_argument("invalid Host field");
  }
  if (name.back() == '.') name.remove_suffix(1);
  if (https_port == 443) return fmt::format("https://{}{}", name, target);
  return fmt::format("https://{}:{}{}", name, https_port, target);
}

}  // namespace inferd::server

#include "server/http/request_target.h"

#include "server/http/header_map.h"

namespace inferd::server {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool has_control_byte(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// True when `segment` is "." or "..", or contains such a component between '/' or '\'.
bool is_traversal(std::string_view segment) {
  size_t start = 0;
  while (start <= segment.size()) {
    size_t end = segment.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = segment.size();
    const std::string_view part = segment.substr(start, end - start);
    if (part == "." || part == "..") return true;
    start = end + 1;
  }
  return false;
}

// Drops "scheme://authority" from an absolute-form target; other targets pass unchanged.
Result<std::string_view> strip_absolute_form(std::string_view target) {
  if (target.empty() || target.front() == '/') return target;
  const size_t sep = target.find("://");
  if (sep == std::string_view::npos) return invalid_argument("request target must start with '/'");
  const std::string_view scheme = target.substr(0, sep);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) {
    return invalid_argument("unsupported scheme in request target");
  }
  const std::string_view rest = target.substr(sep + 3);
  const size_t path_pos = rest.find_first_of("/?");
  if (path_pos == 0) return invalid_argument("request target has an empty authority");
  if (path_pos == std::string_view::npos) return std::string_view("/");
  if (rest[path_pos] == '?') return invalid_argument("request target has a query but no path");
  return rest.substr(path_pos);
}

}  // namespace

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return invalid_argument("truncated percent escape");
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return invalid_argument("malformed percent escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<RequestTarget> parse_request_target(std::string_view target) {
  if (target.empty()) return invalid_argument("empty request target");
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return invalid_argument("request target has a non-visible byte");
    if (c == '#') return invalid_argument("request target has a fragment");
  }
  INFERD_ASSIGN_OR_RETURN(const std::string_view origin, strip_absolute_form(target));

  const size_t qpos = origin.find('?');
  const std::string_view path = origin.substr(0, qpos);
  const std::string_view query =
      qpos == std::string_view::npos ? std::string_view() : origin.substr(qpos + 1);
  if (path.empty() || path.front() != '/') {
    return invalid_argument("request target must start with '/'");
  }

  RequestTarget out;
  out.path = std::string(path);
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view raw = path.substr(start, end - start);
    start = end + 1;
    if (raw.empty()) continue;
    auto decoded = percent_decode(raw, /*plus_is_space=*/false);
    if (!decoded.ok()) return decoded.status().with_context("request path");
    if (is_traversal(raw) || is_traversal(*decoded)) {
      return invalid_argument("path traversal in request target");
    }
    if (has_control_byte(*decoded)) return invalid_argument("control byte in request path");
    out.segments.push_back(std::move(decoded).value());
  }

  start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), /*plus_is_space=*/true);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!name.ok()) return name.status().with_context("query string");
    if (!value.ok()) return value.status().with_context("query string");
    out.query.add(std::move(name).value(), std::move(value).value());
  }
  return out;
}

}  // namespace inferd::server

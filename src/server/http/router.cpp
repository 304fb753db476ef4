#include "server/http/router.h"

#include <algorithm>

namespace inferd::server {

struct Router::Segment {
  bool is_param = false;
  std::string text;  // the literal, or the parameter's name
};

struct Router::Row {
  std::string method;
  std::string pattern;  // with the prefix
  std::vector<Segment> segments;
  std::shared_ptr<const Route> route;  // shared by the rows of every prefix
};

namespace {

bool is_param_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Whether `row` matches; fills `params` when it does.
template <typename Row>
bool row_matches(const Row& row, const std::vector<std::string>& segments, ParamList* params) {
  if (row.segments.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!row.segments[i].is_param && row.segments[i].text != segments[i]) return false;
  }
  if (params != nullptr) {
    for (size_t i = 0; i < segments.size(); ++i) {
      if (row.segments[i].is_param) params->add(row.segments[i].text, segments[i]);
    }
  }
  return true;
}

// True when `a` is more specific than `b`: a literal where `b` has a parameter at the first
// segment where they differ in kind.
template <typename Row>
bool more_specific(const Row& a, const Row& b) {
  for (size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
  }
  return false;
}

void append_method(std::vector<std::string>& methods, const std::string& method) {
  if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
    methods.push_back(method);
  }
}

std::string join_allow(std::vector<std::string> methods) {
  append_method(methods, "OPTIONS");
  std::sort(methods.begin(), methods.end());
  std::string out;
  for (const auto& m : methods) {
    if (!out.empty()) out += ", ";
    out += m;
  }
  return out;
}

}  // namespace

Router::Router() = default;
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

size_t Router::size() const {
  return rows_.size();
}

Status Router::add(Route route, const std::vector<std::string>& prefixes) {
  if (route.method.empty()) return invalid_argument("route {} has no method", route.pattern);
  for (char c : route.method) {
    if (c < 'A' || c > 'Z')
      return invalid_argument("route method '{}' is not upper-case", route.method);
  }
  if (!route.handler)
    return invalid_argument("route {} {} has no handler", route.method, route.pattern);
  if (prefixes.empty())
    return invalid_argument("route {} has no prefix (use \"\" for the root)", route.pattern);

  auto shared = std::make_shared<const Route>(std::move(route));
  std::vector<Row> added;
  for (const std::string& prefix : prefixes) {
    if (!prefix.empty() && (prefix.front() != '/' || prefix.back() == '/')) {
      return invalid_argument("route prefix '{}' must be \"\" or \"/name\" without a trailing '/'",
                              prefix);
    }
    Row row;
    row.method = shared->method;
    row.pattern = prefix + shared->pattern;
    row.route = shared;
    const std::string& full = row.pattern;
    if (full.empty() || full.front() != '/') {
      return invalid_argument("route pattern '{}' must start with '/'", full);
    }
    size_t start = 1;
    while (start < full.size()) {
      size_t end = full.find('/', start);
      if (end == std::string::npos) end = full.size();
      const std::string_view seg(full.data() + start, end - start);
      start = end + 1;
      if (seg.empty()) return invalid_argument("route pattern '{}' has an empty segment", full);
      Segment s;
      if (seg.front() == '{') {
        if (seg.size() < 3 || seg.back() != '}' || !is_param_name(seg.substr(1, seg.size() - 2))) {
          return invalid_argument("route pattern '{}' has a malformed parameter '{}'", full, seg);
        }
        s.is_param = true;
        s.text = std::string(seg.substr(1, seg.size() - 2));
        for (const Segment& prev : row.segments) {
          if (prev.is_param && prev.text == s.text) {
            return invalid_argument("route pattern '{}' repeats parameter '{}'", full, s.text);
          }
        }
      } else {
        if (seg.find_first_of("{}%?#") != std::string_view::npos || seg == "." || seg == "..") {
          return invalid_argument("route pattern '{}' has a malformed literal '{}'", full, seg);
        }
        s.text = std::string(seg);
      }
      row.segments.push_back(std::move(s));
    }
    added.push_back(std::move(row));
  }

  // Reject rows that could never be told apart from an existing (or another new) row.
  auto same_shape = [](const Row& a, const Row& b) {
    if (a.method != b.method || a.segments.size() != b.segments.size()) return false;
    for (size_t i = 0; i < a.segments.size(); ++i) {
      if (a.segments[i].is_param != b.segments[i].is_param) return false;
      if (!a.segments[i].is_param && a.segments[i].text != b.segments[i].text) return false;
    }
    return true;
  };
  for (size_t i = 0; i < added.size(); ++i) {
    for (const Row& existing : rows_) {
      if (same_shape(existing, added[i])) {
        return invalid_argument("route {} {} duplicates {} {}", added[i].method, added[i].pattern,
                                existing.method, existing.pattern);
      }
    }
    for (size_t j = 0; j < i; ++j) {
      if (same_shape(added[j], added[i])) {
        return invalid_argument("route {} {} is mounted twice", added[i].method, added[i].pattern);
      }
    }
  }
  for (Row& row : added) rows_.push_back(std::move(row));
  return Status::ok_status();
}

RouteMatch Router::match(std::string_view method, const std::vector<std::string>& segments) const {
  RouteMatch out;
  const Row* best = nullptr;
  std::vector<std::string> methods;
  for (const Row& row : rows_) {
    if (!row_matches(row, segments, nullptr)) continue;
    append_method(methods, row.method);
    if (row.method == method && (best == nullptr || more_specific(row, *best))) best = &row;
  }
  if (methods.empty()) return out;
  out.allow = join_allow(std::move(methods));
  if (best == nullptr) {
    out.kind = RouteMatch::Kind::kMethodNotAllowed;
    return out;
  }
  out.kind = RouteMatch::Kind::kFound;
  out.route = best->route.get();
  out.pattern = best->pattern;
  row_matches(*best, segments, &out.params);
  return out;
}

}  // namespace inferd::server

// ParamList: decoded name/value pairs in arrival order (path parameters, query parameters).
// Names compare exactly (case-sensitive); a name may repeat in a query string.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inferd::server {

class ParamList {
 public:
  using Entry = std::pair<std::string, std::string>;

  void add(std::string name, std::string value) {
    entries_.emplace_back(std::move(name), std::move(value));
  }

  // The first value of `name`, or nullopt.
  std::optional<std::string_view> get(std::string_view name) const {
    for (const auto& [n, v] : entries_) {
      if (n == name) return std::string_view(v);
    }
    return std::nullopt;
  }
  std::string_view get_or(std::string_view name, std::string_view fallback) const {
    const auto v = get(name);
    return v ? *v : fallback;
  }
  // Every value of `name`, in arrival order.
  std::vector<std::string_view> get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [n, v] : entries_) {
      if (n == name) out.emplace_back(v);
    }
    return out;
  }
  bool contains(std::string_view name) const { return get(name).has_value(); }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace inferd::server

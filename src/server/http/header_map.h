// Header containers of the HTTP transport.
//
// HeaderList: headers a handler adds to a response, written in order.
// HeaderMap: the headers of a request, an ordered multimap with ASCII case-insensitive names
// (RFC 9110 section 5.1). Values are stored as received (surrounding whitespace trimmed by the
// parser).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inferd::server {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

// A field name is an RFC 9110 token: one or more of A-Z a-z 0-9 !#$%&'*+-.^_`|~
bool is_valid_header_name(std::string_view name);
// A field value has no CR, LF, NUL or other control byte except horizontal tab.
bool is_valid_header_value(std::string_view value);

class HeaderMap {
 public:
  void add(std::string name, std::string value);

  // The first value of `name`, or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  // The first value of `name`, or `fallback`.
  std::string_view get_or(std::string_view name, std::string_view fallback) const;
  // Every value of `name`, in arrival order.
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const HeaderList& entries() const { return entries_; }

 private:
  HeaderList entries_;
};

}  // namespace inferd::server

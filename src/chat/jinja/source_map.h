// Maps byte offsets of a template source to 1-based line and column (columns count code
// points), for error messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace inferd::chat::jinja {

class SourceMap {
 public:
  SourceMap() = default;
  // REQUIRES: `source` outlives this map.
  explicit SourceMap(std::string_view source);

  struct Location {
    uint32_t line = 1;
    uint32_t column = 1;
  };
  Location locate(uint32_t offset) const;
  // "line L, column C".
  std::string describe(uint32_t offset) const;

 private:
  std::string_view source_;
  std::vector<uint32_t> line_starts_;
};

// A template syntax error at `offset`: "template syntax error at line L, column C: <message>".
Status syntax_error(const SourceMap& map, uint32_t offset, std::string_view message);

}  // namespace inferd::chat::jinja

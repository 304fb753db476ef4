#include "chat/jinja/source_map.h"

#include <algorithm>

#include "chat/jinja/unicode.h"

namespace inferd::chat::jinja {

SourceMap::SourceMap(std::string_view source) : source_(source) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\n') line_starts_.push_back(static_cast<uint32_t>(i + 1));
  }
}

SourceMap::Location SourceMap::locate(uint32_t offset) const {
  Location loc;
  if (line_starts_.empty()) return loc;
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(source_.size()));
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const size_t line_idx = static_cast<size_t>(it - line_starts_.begin()) - 1;
  loc.line = static_cast<uint32_t>(line_idx + 1);
  const uint32_t start = line_starts_[line_idx];
  loc.column =
      static_cast<uint32_t>(unicode::count_code_points(source_.substr(start, offset - start)) + 1);
  return loc;
}

std::string SourceMap::describe(uint32_t offset) const {
  const Location loc = locate(offset);
  return fmt::format("line {}, column {}", loc.line, loc.column);
}

Status syntax_error(const SourceMap& map, uint32_t offset, std::string_view message) {
  return invalid_argument("template syntax error at {}: {}", map.describe(offset), message);
}

}  // namespace inferd::chat::jinja

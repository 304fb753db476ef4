#include "engine/stop_matcher.h"

#include <algorithm>

namespace inferd::engine {

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

bool StopMatcher::push(std::string_view piece, std::string& out) {
  if (stopped_) return true;
  if (stops_.empty()) {
    out.append(piece);
    return false;
  }
  held_.append(piece);
  // The earliest complete match wins.
  size_t match = std::string::npos;
  for (const auto& s : stops_) match = std::min(match, held_.find(s));
  if (match != std::string::npos) {
    out.append(held_, 0, match);
    held_.clear();
    stopped_ = true;
    return true;
  }
  // Hold back the longest suffix that is a prefix of some stop string.
  size_t keep = 0;
  for (const auto& s : stops_) {
    const size_t max_len = std::min(s.size() - 1, held_.size());
    for (size_t len = max_len; len > keep; --len)
      if (held_.compare(held_.size() - len, len, s, 0, len) == 0) {
        keep = len;
        break;
      }
  }
  out.append(held_, 0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return false;
}

void StopMatcher::flush(std::string& out) {
  if (!stopped_) out.append(held_);
  held_.clear();
}

}  // namespace inferd::engine

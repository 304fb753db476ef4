// StopMatcher: finds the first occurrence of any stop string in text that arrives in pieces,
// releasing only text that can no longer become part of a match. Pieces must be complete UTF-8
// (as TextStream produces); released text then is too, because a held-back suffix is a prefix
// of a (valid UTF-8) stop string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inferd::engine {

class StopMatcher {
 public:
  StopMatcher() = default;
  explicit StopMatcher(std::vector<std::string> stops);

  // Adds `piece` and appends the text now safe to release to `out`. Returns true when a stop
  // string completed: the text before it has been released and nothing after it ever will be.
  bool push(std::string_view piece, std::string& out);
  // Releases the held-back text (call at the end of generation when no stop string matched).
  void flush(std::string& out);

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace inferd::engine

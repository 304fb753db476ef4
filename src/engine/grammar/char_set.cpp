#include "engine/grammar/char_set.h"

#include <algorithm>

namespace inferd::engine {

CharSet::CharSet(std::span<const CodepointRange> ranges) : ranges_(ranges.begin(), ranges.end()) {
  normalize();
}

CharSet::CharSet(std::initializer_list<CodepointRange> ranges) : ranges_(ranges) { normalize(); }

CharSet CharSet::any() { return CharSet({CodepointRange{0, kMaxCodepoint}}); }

void CharSet::normalize() {
  std::vector<CodepointRange> in;
  in.reserve(ranges_.size() + 1);
  for (CodepointRange r : ranges_) {
    if (r.first > r.last || r.first > kMaxCodepoint) continue;
    r.last = std::min(r.last, kMaxCodepoint);
    // Cut the surrogate block out.
    if (r.first < kSurrogateFirst && r.last > kSurrogateLast) {
      in.push_back({r.first, kSurrogateFirst - 1});
      in.push_back({kSurrogateLast + 1, r.last});
      continue;
    }
    if (r.first >= kSurrogateFirst && r.first <= kSurrogateLast) r.first = kSurrogateLast + 1;
    if (r.last >= kSurrogateFirst && r.last <= kSurrogateLast) r.last = kSurrogateFirst - 1;
    if (r.first <= r.last) in.push_back(r);
  }
  std::sort(in.begin(), in.end(),
            [](const CodepointRange& a, const CodepointRange& b) { return a.first < b.first; });
  ranges_.clear();
  for (const CodepointRange& r : in) {
    // Merge overlapping and adjacent ranges (never across the surrogate gap).
    if (!ranges_.empty()) {
      CodepointRange& back = ranges_.back();
      if (r.first <= back.last + 1) {
        back.last = std::max(back.last, r.last);
        continue;
      }
    }
    ranges_.push_back(r);
  }
}

CharSet CharSet::complement() const {
  std::vector<CodepointRange> out;
  uint32_t next = 0;
  for (const CodepointRange& r : ranges_) {
    if (r.first > next) out.push_back({next, r.first - 1});
    next = r.last + 1;
  }
  if (next <= kMaxCodepoint) out.push_back({next, kMaxCodepoint});
  return CharSet(out);
}

CharSet CharSet::united(const CharSet& other) const {
  std::vector<CodepointRange> all = ranges_;
  all.insert(all.end(), other.ranges_.begin(), other.ranges_.end());
  return CharSet(all);
}

CharSet CharSet::intersected(const CharSet& other) const {
  std::vector<CodepointRange> out;
  size_t i = 0, j = 0;
  while (i < ranges_.size() && j < other.ranges_.size()) {
    const CodepointRange& a = ranges_[i];
    const CodepointRange& b = other.ranges_[j];
    const uint32_t lo = std::max(a.first, b.first);
    const uint32_t hi = std::min(a.last, b.last);
    if (lo <= hi) out.push_back({lo, hi});
    if (a.last < b.last) {
      ++i;
    } else {
      ++j;
    }
  }
  return CharSet(out);
}

bool CharSet::contains(uint32_t cp) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), cp,
                             [](uint32_t v, const CodepointRange& r) { return v < r.first; });
  if (it == ranges_.begin()) return false;
  --it;
  return cp <= it->last;
}

uint64_t CharSet::size() const {
  uint64_t n = 0;
  for (const CodepointRange& r : ranges_) n += static_cast<uint64_t>(r.last - r.first) + 1;
  return n;
}

}  // namespace inferd::engine

// CharSet: a set of Unicode scalar values (code points U+0000..U+10FFFF without the surrogates
// U+D800..U+DFFF), kept as sorted, disjoint, non-adjacent inclusive ranges; no range contains a
// surrogate (so U+0000..U+10FFFF is two ranges). The character classes of grammars and patterns
// are CharSets; the automaton turns them into UTF-8 byte sequences.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

namespace inferd::engine {

inline constexpr uint32_t kMaxCodepoint = 0x10FFFF;
inline constexpr uint32_t kSurrogateFirst = 0xD800;
inline constexpr uint32_t kSurrogateLast = 0xDFFF;

struct CodepointRange {
  uint32_t first = 0;
  uint32_t last = 0;  // inclusive
  bool operator==(const CodepointRange&) const = default;
};

class CharSet {
 public:
  CharSet() = default;
  // Any ranges (unsorted, overlapping, first > last ignored, values above U+10FFFF clipped,
  // surrogates removed).
  explicit CharSet(std::span<const CodepointRange> ranges);
  CharSet(std::initializer_list<CodepointRange> ranges);

  static CharSet single(uint32_t cp) { return CharSet({CodepointRange{cp, cp}}); }
  // Every scalar value.
  static CharSet any();

  CharSet complement() const;
  CharSet united(const CharSet& other) const;
  CharSet intersected(const CharSet& other) const;
  CharSet minus(const CharSet& other) const { return intersected(other.complement()); }

  bool contains(uint32_t cp) const;
  bool empty() const { return ranges_.empty(); }
  // Number of scalar values in the set.
  uint64_t size() const;
  const std::vector<CodepointRange>& ranges() const { return ranges_; }

  bool operator==(const CharSet&) const = default;

 private:
  void normalize();
  std::vector<CodepointRange> ranges_;
};

}  // namespace inferd::engine

// Character property ranges and full case mappings generated from Python's unicodedata
// (scripts/gen_unicode_tables.py). Each range array is sorted and non-overlapping.
#pragma once

#include <cstdint>
#include <span>

namespace inferd::chat::jinja::unicode_tables {

struct CodeRange {
  char32_t lo;
  char32_t hi;  // inclusive
};

// A code point whose mapping differs from itself; `to` holds up to three code points, 0-padded.
struct CaseMapping {
  char32_t from;
  char32_t to[3];
};

extern const std::span<const CodeRange> printable_ranges;
extern const std::span<const CodeRange> alpha_ranges;
extern const std::span<const CodeRange> decimal_ranges;
extern const std::span<const CodeRange> digit_ranges;
extern const std::span<const CodeRange> numeric_ranges;
extern const std::span<const CodeRange> lowercase_ranges;
extern const std::span<const CodeRange> uppercase_ranges;
extern const std::span<const CodeRange> titlecase_ranges;
extern const std::span<const CodeRange> case_ignorable_ranges;
// Sorted by `from`.
extern const std::span<const CaseMapping> lower_mappings;
extern const std::span<const CaseMapping> upper_mappings;
extern const std::span<const CaseMapping> title_mappings;

}  // namespace inferd::chat::jinja::unicode_tables

// Regular expressions (the ECMA-262 dialect JSON Schema "pattern" uses) as grammar expressions.
//
// JSON Schema patterns are unanchored: a string is valid when the pattern matches anywhere in
// it. The expression built here matches exactly those strings: a pattern that does not start
// with ^ (end with $) gets any characters allowed before (after) it.
//
// Supported: literals; . (any character but \n \r U+2028 U+2029); classes [...] and [^...] with
// ranges and the escapes below; groups (...), (?:...), (?<name>...); alternation |; quantifiers
// * + ? {n} {n,} {n,m} (a trailing ? for laziness is accepted: it does not change the language);
// ^ at the very start and $ at the very end; escapes \d \D \w \W \s \S \t \n \r \v \f \0 \b (in
// classes) \cX \xHH \uHHHH \u{H...} (surrogate pairs combine) and backslash before any
// punctuation.
// Errors (with the offset): back-references, lookaround, \b \B word boundaries, \p{...}
// property classes, anchors elsewhere, ^...|...$ alternation at the top level with anchors,
// repetition bounds above kMaxRegexRepeat, malformed syntax.
#pragma once

#include <functional>
#include <string_view>

#include "base/status.h"
#include "engine/grammar/grammar.h"

namespace inferd::engine {

inline constexpr int32_t kMaxRegexRepeat = 1000;

// Turns one matched character (any of `set`) into grammar: the JSON schema compiler writes it
// the way it appears inside a JSON string.
using CharEmitter = std::function<ExprId(Grammar&, const CharSet&)>;

// Emits each character as a plain character class.
ExprId emit_plain_chars(Grammar& g, const CharSet& set);

Result<ExprId> regex_to_expr(Grammar& g, std::string_view pattern, const CharEmitter& emit);

}  // namespace inferd::engine

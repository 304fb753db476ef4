// GBNF: the text form of a Grammar (the notation llama.cpp popularised, with one addition for
// single tokens).
//
//   # comment to the end of the line
//   root   ::= "{" ws pair ("," ws pair)* ws "}"      the grammar starts at the rule "root"
//   pair   ::= key ws ":" ws value
//   key    ::= "\"" [a-z_]+ "\""
//   value  ::= [0-9]{1,5} | "true" | "false" | @"<|tool|>" | .
//   ws     ::= [ \t\n]{0,4}
//
// - A rule is `name ::= expression`. Names use [A-Za-z0-9_-]. A definition ends where the next
//   `name ::=` begins, so a body may span lines; whitespace and comments are otherwise free.
//   Rules may be used before they are defined; every used rule must be defined, and once.
// - `a b` is a sequence, `a | b` alternatives (lowest precedence), `( ... )` groups.
// - `"text"` is a literal. Escapes in literals and classes: \n \r \t \\ \" \' \[ \] \- \^ \/,
//   \xHH, \uHHHH, \UHHHHHHHH (each names a code point, written as UTF-8).
// - `[...]` is one character from the listed characters and ranges `a-z`; `[^...]` one character
//   not listed; `.` any character. Characters are Unicode scalar values (UTF-8 in the output).
// - Postfix repetition: `x?`, `x*`, `x+`, `x{m}`, `x{m,}`, `x{m,n}`, `x{,n}`.
// - `@"text"` is the one vocabulary token whose text is exactly `text` (e.g. a control token such
//   as "[TOOL_CALLS]" that no byte sequence can produce); `@123` the token with id 123.
//
// Errors name the line, column and rule: `GBNF line 3, column 14 (rule "value"): expected ')'`.
#pragma once

#include <string_view>

#include "base/status.h"
#include "engine/grammar/grammar.h"

namespace inferd::engine {

// Parses a whole grammar; its root is the rule named `root_name`.
Result<Grammar> parse_gbnf(std::string_view text, std::string_view root_name = "root");

// Adds the rules of `text` to `grammar`. They may refer to rules the grammar already defines;
// redefining one is an error. The root is left unchanged. On error `grammar` may hold some of
// the new rules (declared, possibly without body); discard it.
Status parse_gbnf_into(std::string_view text, Grammar& grammar);

}  // namespace inferd::engine

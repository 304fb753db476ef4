// JsonRules: the grammar rules for JSON text shared by every schema compiled into one Grammar:
// whitespace, strings, numbers, and any value / object / array. Rules are added on first use
// and named "json-...".
//
// Whitespace policy (JsonWhitespace): between any two JSON tokens there may be at most one line
// break (\n or \r\n) followed by at most `max_spaces` spaces or tabs, so models can format
// their output but never loop on whitespace.
// Strings: any character except " \ and controls, or an escape; \u escapes name a scalar value
// (surrogates only as a high-low pair). Numbers: see json_number_grammar.h.
#pragma once

#include <string_view>
#include <vector>

#include "engine/grammar/grammar.h"

namespace inferd::engine {

struct JsonWhitespace {
  int32_t max_spaces = 20;
  bool newlines = true;
};

class JsonRules {
 public:
  JsonRules(Grammar& g, JsonWhitespace ws);

  Grammar& grammar() { return g_; }
  ExprId ws();
  ExprId string();
  ExprId number();
  ExprId integer();
  ExprId value();
  ExprId object();
  ExprId array();

  // One JSON string character, raw or escaped (the GBNF rule json-char).
  ExprId string_char();
  // A JSON string of min_chars..max_chars characters (max_chars Grammar::kUnbounded: no limit).
  ExprId string_of_length(int32_t min_chars, int32_t max_chars);
  // `content` between quotes.
  ExprId quoted(ExprId content);
  // One character of `set` as it is written inside a JSON string: raw, or escaped where JSON
  // requires it (", \ and controls; controls as \b \f \n \r \t or \u00XX).
  ExprId string_chars(const CharSet& set);
  // A JSON string without escapes whose text is none of `excluded` (for property names that must
  // differ from declared ones).
  ExprId string_excluding(const std::vector<std::string>& excluded);
  // `text` as a JSON value literal.
  ExprId literal(std::string_view text) { return g_.literal(text); }

 private:
  RuleId rule(std::string_view name);

  Grammar& g_;
  JsonWhitespace ws_;
};

}  // namespace inferd::engine

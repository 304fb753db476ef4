#include "engine/grammar/json_rules.h"

#include <fmt/format.h>

#include <map>

#include "base/check.h"
#include "engine/grammar/gbnf_parser.h"
#include "engine/grammar/json_number_grammar.h"
#include "tokenizer/utf8.h"

namespace inferd::engine {
namespace {

// {0}: the whitespace rule's body.
constexpr const char* kJsonRules = R"(
json-value ::= json-object | json-array | json-string | json-number | "true" | "false" | "null"
json-object ::= "{{" json-ws ( json-string json-ws ":" json-ws json-value ( json-ws "," json-ws json-string json-ws ":" json-ws json-value )* )? json-ws "}}"
json-array ::= "[" json-ws ( json-value ( json-ws "," json-ws json-value )* )? json-ws "]"
json-string ::= "\"" json-char* "\""
json-char ::= [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" json-hex4 | "u" [dD] [89abAB] json-hex json-hex "\\u" [dD] [c-fC-F] json-hex json-hex )
json-hex4 ::= [0-9a-cA-CefEF] json-hex json-hex json-hex | [dD] [0-7] json-hex json-hex
json-hex ::= [0-9a-fA-F]
json-number ::= json-integer ( "." [0-9]{{1,{2}}} )? ( [eE] [-+]? [0-9]{{1,2}} )?
json-integer ::= "-"? ( "0" | [1-9] [0-9]{{0,{1}}} )
json-ws ::= {0}
)";

}  // namespace

JsonRules::JsonRules(Grammar& g, JsonWhitespace ws) : g_(g), ws_(ws) {}

RuleId JsonRules::rule(std::string_view name) {
  if (g_.find_rule("json-value") == kNoRule) {
    const std::string spaces = ws_.max_spaces > 0 ? fmt::format("[ \\t]{{0,{}}}", ws_.max_spaces) : "\"\"";
    const std::string ws_body = ws_.newlines ? fmt::format("( \"\\n\" | \"\\r\\n\" )? {}", spaces) : spaces;
    const std::string text = fmt::format(kJsonRules, ws_body, kMaxIntegerDigits - 1, kMaxFractionDigits);
    const Status st = parse_gbnf_into(text, g_);
    INFERD_CHECK_MSG(st.ok(), "built-in JSON grammar failed to parse");
  }
  const RuleId id = g_.find_rule(name);
  INFERD_CHECK(id != kNoRule);
  return id;
}

ExprId JsonRules::ws() { return g_.ref(rule("json-ws")); }
ExprId JsonRules::string() { return g_.ref(rule("json-string")); }
ExprId JsonRules::number() { return g_.ref(rule("json-number")); }
ExprId JsonRules::integer() { return g_.ref(rule("json-integer")); }
ExprId JsonRules::value() { return g_.ref(rule("json-value")); }
ExprId JsonRules::object() { return g_.ref(rule("json-object")); }
ExprId JsonRules::array() { return g_.ref(rule("json-array")); }
ExprId JsonRules::string_char() { return g_.ref(rule("json-char")); }

ExprId JsonRules::quoted(ExprId content) {
  return g_.sequence({g_.literal("\""), content, g_.literal("\"")});
}

ExprId JsonRules::string_of_length(int32_t min_chars, int32_t max_chars) {
  if (min_chars == 0 && max_chars == Grammar::kUnbounded) return string();
  return quoted(g_.repeat(string_char(), min_chars, max_chars));
}

ExprId JsonRules::string_chars(const CharSet& set) {
  static const CharSet kNeedsEscape = CharSet({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}});
  std::vector<ExprId> alternatives;
  const CharSet raw = set.minus(kNeedsEscape);
  if (!raw.empty()) alternatives.push_back(g_.chars(raw));
  if (set.contains('"')) alternatives.push_back(g_.literal("\\\""));
  if (set.contains('\\')) alternatives.push_back(g_.literal("\\\\"));
  static constexpr std::pair<uint32_t, const char*> kShort[] = {
      {'\b', "\\b"}, {'\f', "\\f"}, {'\n', "\\n"}, {'\r', "\\r"}, {'\t', "\\t"}};
  for (const auto& [cp, text] : kShort)
    if (set.contains(cp)) alternatives.push_back(g_.literal(text));
  // Any control as \u00XX, grouped by the high hex digit.
  for (uint32_t high = 0; high < 2; ++high) {
    std::vector<CodepointRange> lows;
    for (uint32_t low = 0; low < 16; ++low) {
      if (!set.contains(high * 16 + low)) continue;
      const char hex = "0123456789abcdef"[low];
      lows.push_back({static_cast<uint32_t>(hex), static_cast<uint32_t>(hex)});
      if (low >= 10) lows.push_back({static_cast<uint32_t>(hex - 'a' + 'A'), static_cast<uint32_t>(hex - 'a' + 'A')});
    }
    if (lows.empty()) continue;
    alternatives.push_back(g_.sequence({g_.literal(fmt::format("\\u00{}", high)), g_.chars(CharSet(lows))}));
  }
  INFERD_CHECK(!alternatives.empty());
  return g_.choice(std::move(alternatives));
}

ExprId JsonRules::string_excluding(const std::vector<std::string>& excluded) {
  // A trie of the excluded names by code point; each node lists its children and whether a name
  // ends there. Leaving the trie frees the rest of the string.
  struct Node {
    std::map<uint32_t, int32_t> children;
    bool ends = false;
  };
  std::vector<Node> nodes(1);
  for (const std::string& name : excluded) {
    int32_t cur = 0;
    size_t pos = 0;
    while (pos < name.size()) {
      const uint32_t cp = tokenizer::utf8_decode(name, pos);
      auto it = nodes[static_cast<size_t>(cur)].children.find(cp);
      if (it == nodes[static_cast<size_t>(cur)].children.end()) {
        nodes.emplace_back();
        const auto id = static_cast<int32_t>(nodes.size() - 1);
        nodes[static_cast<size_t>(cur)].children.emplace(cp, id);
        cur = id;
      } else {
        cur = it->second;
      }
    }
    nodes[static_cast<size_t>(cur)].ends = true;
  }
  static const CharSet kPlain = CharSet({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}}).complement();
  const ExprId close = g_.literal("\"");
  const ExprId free_rest = g_.sequence({g_.star(g_.chars(kPlain)), close});
  // Built bottom-up: children before parents (children have larger indices).
  std::vector<ExprId> after(nodes.size());
  for (size_t i = nodes.size(); i-- > 0;) {
    const Node& n = nodes[i];
    std::vector<ExprId> alternatives;
    std::vector<CodepointRange> used;
    for (const auto& [cp, child] : n.children) {
      if (!kPlain.contains(cp)) continue;  // a name no escape-free string can spell
      used.push_back({cp, cp});
      std::string text;
      tokenizer::utf8_append(text, cp);
      alternatives.push_back(g_.sequence({g_.literal(text), after[static_cast<size_t>(child)]}));
    }
    const CharSet others = kPlain.minus(CharSet(used));
    if (!others.empty()) alternatives.push_back(g_.sequence({g_.chars(others), free_rest}));
    if (!n.ends) alternatives.push_back(close);
    after[i] = g_.choice(std::move(alternatives));
  }
  return g_.sequence({g_.literal("\""), after[0]});
}

}  // namespace inferd::engine

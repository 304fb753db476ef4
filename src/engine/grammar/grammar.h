// Grammar: a context-free grammar over UTF-8 text, the common form of everything that constrains
// decoding (GBNF text, JSON schemas, tool-call formats). Rules are named; each has one body
// expression built from literals, character classes, rule references, single-token elements,
// sequences, alternatives and counted repetition. The grammar is the editable representation;
// GrammarAutomaton compiles it for matching.
//
// Expressions live in an arena owned by the grammar and are referred to by ExprId; they are
// immutable once made and may be shared between rules. Rules may be declared before their body
// is set (for recursion). Not thread-safe while being built; const use is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/grammar/char_set.h"

namespace inferd::engine {

using ExprId = int32_t;
using RuleId = int32_t;
inline constexpr RuleId kNoRule = -1;

enum class ExprKind : uint8_t {
  kEmpty,     // matches the empty string
  kLiteral,   // the bytes of `text` (UTF-8)
  kChars,     // one character of `chars`
  kRuleRef,   // the rule `rule`
  kToken,     // one vocabulary token: by its text (`text`) or by id (`token_id` >= 0)
  kSequence,  // `items` one after another
  kChoice,    // one of `items`
  kRepeat,    // `items[0]` repeated min_count..max_count times (max_count kUnbounded: no limit)
};

struct GrammarExpr {
  ExprKind kind = ExprKind::kEmpty;
  std::string text;
  CharSet chars;
  RuleId rule = kNoRule;
  int32_t token_id = -1;
  std::vector<ExprId> items;
  int32_t min_count = 0;
  int32_t max_count = 0;
};

struct GrammarRule {
  std::string name;
  ExprId body = -1;  // -1 until defined
};

class Grammar {
 public:
  static constexpr int32_t kUnbounded = -1;
  // Largest finite repetition bound accepted by validate().
  static constexpr int32_t kMaxRepeat = 100000;

  // --- building ---
  // Declares a rule. REQUIRES: no rule of that name exists (see unique_rule_name()).
  RuleId add_rule(std::string name);
  // Declares a rule and sets its body.
  RuleId add_rule(std::string name, ExprId body);
  void set_body(RuleId rule, ExprId body);
  void set_root(RuleId rule) { root_ = rule; }
  // `base`, or `base` with the smallest numeric suffix ("-2", "-3", ...) that no rule uses.
  std::string unique_rule_name(std::string_view base) const;

  ExprId empty();
  ExprId literal(std::string_view utf8);
  ExprId chars(CharSet set);
  ExprId ref(RuleId rule);
  ExprId token(std::string text);
  ExprId token_id(int32_t id);
  // A sequence or choice of one item is that item; of none, empty() (a choice of none matches
  // nothing and is an error in validate()).
  ExprId sequence(std::vector<ExprId> items);
  ExprId choice(std::vector<ExprId> items);
  ExprId repeat(ExprId item, int32_t min_count, int32_t max_count);
  ExprId optional(ExprId item) { return repeat(item, 0, 1); }
  ExprId star(ExprId item) { return repeat(item, 0, kUnbounded); }
  ExprId plus(ExprId item) { return repeat(item, 1, kUnbounded); }

  // --- queries ---
  int32_t num_rules() const { return static_cast<int32_t>(rules_.size()); }
  const GrammarRule& rule(RuleId id) const { return rules_[static_cast<size_t>(id)]; }
  // kNoRule when absent.
  RuleId find_rule(std::string_view name) const;
  RuleId root() const { return root_; }
  int32_t num_exprs() const { return static_cast<int32_t>(exprs_.size()); }
  const GrammarExpr& expr(ExprId id) const { return exprs_[static_cast<size_t>(id)]; }

  // Structural checks: a root is set, every rule reachable from it has a body, references and
  // repetition bounds are valid, no choice is empty. Errors name the rule.
  Status validate() const;

  // The grammar in GBNF syntax (gbnf_parser.h), root first; parse_gbnf() of it gives an
  // equivalent grammar.
  std::string to_gbnf() const;
  // One expression in GBNF syntax.
  std::string expr_to_gbnf(ExprId id) const;

 private:
  ExprId add(GrammarExpr e);
  void print_expr(ExprId id, int parent_precedence, std::string& out) const;

  std::vector<GrammarRule> rules_;
  std::vector<GrammarExpr> exprs_;
  RuleId root_ = kNoRule;
};

}  // namespace inferd::engine

#include "engine/grammar/grammar.h"

#include <fmt/format.h>

#include "base/check.h"
#include "tokenizer/utf8.h"

namespace inferd::engine {

RuleId Grammar::add_rule(std::string name) {
  INFERD_CHECK_MSG(find_rule(name) == kNoRule, "duplicate grammar rule name");
  rules_.push_back({std::move(name), -1});
  return static_cast<RuleId>(rules_.size() - 1);
}

RuleId Grammar::add_rule(std::string name, ExprId body) {
  const RuleId id = add_rule(std::move(name));
  set_body(id, body);
  return id;
}

void Grammar::set_body(RuleId rule, ExprId body) {
  INFERD_CHECK(rule >= 0 && rule < num_rules());
  INFERD_CHECK(body >= 0 && body < num_exprs());
  rules_[static_cast<size_t>(rule)].body = body;
}

std::string Grammar::unique_rule_name(std::string_view base) const {
  std::string name(base);
  for (int suffix = 2; find_rule(name) != kNoRule; ++suffix) name = fmt::format("{}-{}", base, suffix);
  return name;
}

RuleId Grammar::find_rule(std::string_view name) const {
  for (size_t i = 0; i < rules_.size(); ++i)
    if (rules_[i].name == name) return static_cast<RuleId>(i);
  return kNoRule;
}

ExprId Grammar::add(GrammarExpr e) {
  exprs_.push_back(std::move(e));
  return static_cast<ExprId>(exprs_.size() - 1);
}

ExprId Grammar::empty() { return add({}); }

ExprId Grammar::literal(std::string_view utf8) {
  if (utf8.empty()) return empty();
  GrammarExpr e;
  e.kind = ExprKind::kLiteral;
  e.text = std::string(utf8);
  return add(std::move(e));
}

ExprId Grammar::chars(CharSet set) {
  GrammarExpr e;
  e.kind = ExprKind::kChars;
  e.chars = std::move(set);
  return add(std::move(e));
}

ExprId Grammar::ref(RuleId rule) {
  GrammarExpr e;
  e.kind = ExprKind::kRuleRef;
  e.rule = rule;
  return add(std::move(e));
}

ExprId Grammar::token(std::string text) {
  GrammarExpr e;
  e.kind = ExprKind::kToken;
  e.text = std::move(text);
  return add(std::move(e));
}

ExprId Grammar::token_id(int32_t id) {
  GrammarExpr e;
  e.kind = ExprKind::kToken;
  e.token_id = id;
  return add(std::move(e));
}

ExprId Grammar::sequence(std::vector<ExprId> items) {
  if (items.empty()) return empty();
  if (items.size() == 1) return items[0];
  GrammarExpr e;
  e.kind = ExprKind::kSequence;
  e.items = std::move(items);
  return add(std::move(e));
}

ExprId Grammar::choice(std::vector<ExprId> items) {
  if (items.size() == 1) return items[0];
  GrammarExpr e;
  e.kind = ExprKind::kChoice;
  e.items = std::move(items);
  return add(std::move(e));
}

ExprId Grammar::repeat(ExprId item, int32_t min_count, int32_t max_count) {
  if (min_count == 1 && max_count == 1) return item;
  GrammarExpr e;
  e.kind = ExprKind::kRepeat;
  e.items = {item};
  e.min_count = min_count;
  e.max_count = max_count;
  return add(std::move(e));
}

Status Grammar::validate() const {
  if (root_ < 0 || root_ >= num_rules()) return invalid_argument("grammar has no root rule");
  std::vector<uint8_t> seen(rules_.size(), 0);
  std::vector<RuleId> pending = {root_};
  seen[static_cast<size_t>(root_)] = 1;
  std::vector<ExprId> exprs;
  while (!pending.empty()) {
    const RuleId r = pending.back();
    pending.pop_back();
    const GrammarRule& rule = rules_[static_cast<size_t>(r)];
    if (rule.body < 0) return invalid_argument("rule \"{}\" is referenced but never defined", rule.name);
    exprs.assign(1, rule.body);
    while (!exprs.empty()) {
      const ExprId id = exprs.back();
      exprs.pop_back();
      if (id < 0 || id >= num_exprs()) return invalid_argument("rule \"{}\": bad expression", rule.name);
      const GrammarExpr& e = expr(id);
      switch (e.kind) {
        case ExprKind::kRuleRef:
          if (e.rule < 0 || e.rule >= num_rules())
            return invalid_argument("rule \"{}\": reference to an undeclared rule", rule.name);
          if (!seen[static_cast<size_t>(e.rule)]) {
            seen[static_cast<size_t>(e.rule)] = 1;
            pending.push_back(e.rule);
          }
          break;
        case ExprKind::kChars:
          if (e.chars.empty())
            return invalid_argument("rule \"{}\": character class matches no character", rule.name);
          break;
        case ExprKind::kToken:
          if (e.text.empty() && e.token_id < 0)
            return invalid_argument("rule \"{}\": token element without text or id", rule.name);
          break;
        case ExprKind::kChoice:
          if (e.items.empty()) return invalid_argument("rule \"{}\": empty alternative list", rule.name);
          [[fallthrough]];
        case ExprKind::kSequence:
          exprs.insert(exprs.end(), e.items.begin(), e.items.end());
          break;
        case ExprKind::kRepeat:
          if (e.items.size() != 1) return invalid_argument("rule \"{}\": bad repetition", rule.name);
          if (e.min_count < 0 || e.min_count > kMaxRepeat ||
              (e.max_count != kUnbounded && (e.max_count < e.min_count || e.max_count > kMaxRepeat)))
            return invalid_argument("rule \"{}\": repetition bounds {{{},{}}} out of range (at most {})",
                                    rule.name, e.min_count, e.max_count, kMaxRepeat);
          exprs.push_back(e.items[0]);
          break;
        case ExprKind::kEmpty:
        case ExprKind::kLiteral:
          break;
      }
    }
  }
  return {};
}

// --- GBNF printing ---

namespace {

// Precedence levels: a child printed below its parent's level gets parentheses.
constexpr int kPrecChoice = 0;
constexpr int kPrecSequence = 1;
constexpr int kPrecPostfix = 2;

void append_escaped_cp(uint32_t cp, bool in_class, std::string& out) {
  switch (cp) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\\': out += "\\\\"; return;
    default: break;
  }
  if (!in_class && cp == '"') {
    out += "\\\"";
    return;
  }
  if (in_class && (cp == ']' || cp == '[' || cp == '-' || cp == '^')) {
    out += '\\';
    out += static_cast<char>(cp);
    return;
  }
  if (cp < 0x20 || cp == 0x7F) {
    out += fmt::format("\\x{:02X}", cp);
  } else if (cp >= 0x80 && cp < 0xA0) {
    out += fmt::format("\\u{:04X}", cp);
  } else {
    tokenizer::utf8_append(out, cp);
  }
}

void append_literal(std::string_view text, std::string& out) {
  out += '"';
  size_t pos = 0;
  while (pos < text.size()) {
    if (tokenizer::utf8_valid_length(text, pos) == 0) {
      out += fmt::format("\\x{:02X}", static_cast<uint8_t>(text[pos]));
      ++pos;
      continue;
    }
    append_escaped_cp(tokenizer::utf8_decode(text, pos), false, out);
  }
  out += '"';
}

void append_class(const CharSet& set, std::string& out) {
  if (set == CharSet::any()) {
    out += '.';
    return;
  }
  // Print the smaller of the set and its complement.
  const CharSet complement = set.complement();
  const bool negate = complement.ranges().size() < set.ranges().size();
  const CharSet& shown = negate ? complement : set;
  out += negate ? "[^" : "[";
  for (const CodepointRange& r : shown.ranges()) {
    append_escaped_cp(r.first, true, out);
    if (r.last == r.first) continue;
    if (r.last > r.first + 1) out += '-';
    append_escaped_cp(r.last, true, out);
  }
  out += ']';
}

}  // namespace

void Grammar::print_expr(ExprId id, int parent_precedence, std::string& out) const {
  const GrammarExpr& e = expr(id);
  int precedence = kPrecPostfix;
  if (e.kind == ExprKind::kSequence) precedence = kPrecSequence;
  if (e.kind == ExprKind::kChoice) precedence = kPrecChoice;
  const bool parens = precedence < parent_precedence;
  if (parens) out += '(';
  switch (e.kind) {
    case ExprKind::kEmpty: out += "\"\""; break;
    case ExprKind::kLiteral: append_literal(e.text, out); break;
    case ExprKind::kChars: append_class(e.chars, out); break;
    case ExprKind::kRuleRef: out += rule(e.rule).name; break;
    case ExprKind::kToken:
      if (e.token_id >= 0) {
        out += fmt::format("@{}", e.token_id);
      } else {
        out += '@';
        append_literal(e.text, out);
      }
      break;
    case ExprKind::kSequence:
    case ExprKind::kChoice:
      for (size_t i = 0; i < e.items.size(); ++i) {
        if (i > 0) out += e.kind == ExprKind::kChoice ? " | " : " ";
        print_expr(e.items[i], precedence + 1 > kPrecPostfix ? kPrecPostfix : precedence + 1, out);
      }
      break;
    case ExprKind::kRepeat: {
      // The operand of a postfix operator must itself be atomic.
      const GrammarExpr& item = expr(e.items[0]);
      const bool item_parens = item.kind == ExprKind::kSequence || item.kind == ExprKind::kChoice ||
                               item.kind == ExprKind::kRepeat;
      if (item_parens) out += '(';
      print_expr(e.items[0], kPrecChoice, out);
      if (item_parens) out += ')';
      const int32_t lo = e.min_count, hi = e.max_count;
      if (lo == 0 && hi == 1) {
        out += '?';
      } else if (lo == 0 && hi == kUnbounded) {
        out += '*';
      } else if (lo == 1 && hi == kUnbounded) {
        out += '+';
      } else if (hi == kUnbounded) {
        out += fmt::format("{{{},}}", lo);
      } else if (lo == hi) {
        out += fmt::format("{{{}}}", lo);
      } else {
        out += fmt::format("{{{},{}}}", lo, hi);
      }
      break;
    }
  }
  if (parens) out += ')';
}

std::string Grammar::expr_to_gbnf(ExprId id) const {
  std::string out;
  print_expr(id, kPrecChoice, out);
  return out;
}

std::string Grammar::to_gbnf() const {
  std::string out;
  auto print_rule = [&](const GrammarRule& r) {
    if (r.body < 0) return;
    out += r.name;
    out += " ::= ";
    print_expr(r.body, kPrecChoice, out);
    out += '\n';
  };
  if (root_ >= 0 && root_ < num_rules()) print_rule(rule(root_));
  for (RuleId i = 0; i < num_rules(); ++i)
    if (i != root_) print_rule(rule(i));
  return out;
}

}  // namespace inferd::engine

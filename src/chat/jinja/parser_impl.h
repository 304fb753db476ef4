// Parser internals shared by parser.cpp (statements) and parser_expr.cpp (expressions).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"
#include "chat/jinja/limits.h"
#include "chat/jinja/source_map.h"

namespace inferd::chat::jinja::parser_detail {

// A token test as jinja2 writes it: a type, or a name with a given value ("name:endfor").
struct TokenRule {
  TokenType type;
  std::string_view name;  // for kName rules; empty matches any name
};

constexpr TokenRule name_rule(std::string_view name) {
  return {TokenType::kName, name};
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const SourceMap& map, const ParseLimits& limits)
      : tokens_(std::move(tokens)), map_(map), limits_(limits) {}

  Result<Body> parse() { return subparse({}); }

 private:
  using Rules = std::vector<TokenRule>;

  // ---- token stream -------------------------------------------------------------------------
  const Token& cur() const { return tokens_[idx_]; }
  const Token& look() const { return tokens_[std::min(idx_ + 1, tokens_.size() - 1)]; }
  const Token& advance() {
    const Token& t = tokens_[idx_];
    if (idx_ + 1 < tokens_.size()) ++idx_;
    return t;
  }
  static bool test(const Token& t, const TokenRule& rule) {
    if (t.type != rule.type) return false;
    return rule.name.empty() || t.text == rule.name;
  }
  bool test_any(const Rules& rules) const {
    return std::any_of(rules.begin(), rules.end(),
                       [&](const TokenRule& r) { return test(cur(), r); });
  }
  bool is_name(std::string_view value) const {
    return cur().type == TokenType::kName && cur().text == value;
  }
  bool skip_if(TokenType type) {
    if (cur().type != type) return false;
    advance();
    return true;
  }
  bool skip_if_name(std::string_view value) {
    if (!is_name(value)) return false;
    advance();
    return true;
  }

  static std::string describe(const Token& t) {
    if (t.type == TokenType::kName) return t.text;
    return std::string(describe_token_type(t.type));
  }
  static std::string describe_rule(const TokenRule& r) {
    if (r.type == TokenType::kName && !r.name.empty()) return std::string(r.name);
    return std::string(describe_token_type(r.type));
  }

  Status fail(std::string_view message) const { return fail_at(cur().offset, message); }
  Status fail_at(uint32_t offset, std::string_view message) const {
    return syntax_error(map_, offset, message);
  }

  Result<Token> expect(const TokenRule& rule) {
    if (!test(cur(), rule)) {
      if (cur().type == TokenType::kEof) {
        return fail(fmt::format("unexpected end of template, expected '{}'.", describe_rule(rule)));
      }
      return fail(
          fmt::format("expected token '{}', got '{}'", describe_rule(rule), describe(cur())));
    }
    return advance();
  }
  Status expect_type(TokenType type) {
    INFERD_ASSIGN_OR_RETURN(Token t, expect(TokenRule{type, {}}));
    (void)t;
    return Status::ok_status();
  }

  // ---- nesting guard ------------------------------------------------------------------------
  class DepthGuard {
   public:
    explicit DepthGuard(uint32_t& depth) : depth_(depth) { ++depth_; }
    ~DepthGuard() { --depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    uint32_t& depth_;
  };
  Status check_depth() const {
    if (depth_ > limits_.max_nesting) {
      return fail(
          fmt::format("template nesting exceeds the limit of {} levels", limits_.max_nesting));
    }
    return Status::ok_status();
  }

  // Counts the nodes a left-recursive loop stacks on one operand (a + b + c, x.y.z, x|f|g), which
  // deepen the tree without recursing in the parser; the count is released when the loop's
  // parse function returns.
  class ChainGuard {
   public:
    explicit ChainGuard(Parser& p) : parser_(p) {}
    ~ChainGuard() { parser_.depth_ -= added_; }
    ChainGuard(const ChainGuard&) = delete;
    ChainGuard& operator=(const ChainGuard&) = delete;
    Status step() {
      ++parser_.depth_;
      ++added_;
      return parser_.check_depth();
    }

   private:
    Parser& parser_;
    uint32_t added_ = 0;
  };

  // Sets the loop depth (for break/continue) of a body and restores it afterwards.
  struct LoopScope {
    LoopScope(Parser& p, int loop_depth) : parser(p), saved(p.loop_depth_) {
      p.loop_depth_ = loop_depth;
    }
    ~LoopScope() { parser.loop_depth_ = saved; }
    LoopScope(const LoopScope&) = delete;
    LoopScope& operator=(const LoopScope&) = delete;
    Parser& parser;
    int saved;
  };

  // ---- statements (parser.cpp) ---------------------------------------------------------
  Status fail_unknown_or_eof(const std::string* name, uint32_t offset) const;
  Result<Body> subparse(const Rules& end_tokens);
  Result<Body> parse_statements(const Rules& end_tokens, bool drop_needle);
  Result<StmtPtr> parse_statement();
  Result<StmtPtr> dispatch_statement(const std::string& name, uint32_t offset);
  Result<StmtPtr> parse_for();
  Result<StmtPtr> parse_if();
  Result<StmtPtr> parse_set();
  Status parse_signature(MacroSignature& sig);
  Result<StmtPtr> parse_macro();
  // A body that uses `caller` may declare it as a parameter only with a default.
  Status check_explicit_caller(const MacroSignature& sig, uint32_t offset) const;
  Result<StmtPtr> parse_call_block();
  Result<StmtPtr> parse_filter_block();
  Result<StmtPtr> parse_with();
  Result<StmtPtr> parse_print();
  Result<StmtPtr> parse_generation();

  // ---- expressions (parser_expr.cpp) ---------------------------------------------------
  static bool can_assign(const Expr* e);
  static const char* node_type_name(const Expr* e);
  Result<ExprPtr> parse_assign_target(bool with_tuple, bool name_only, const Rules& extra_end,
                                      bool with_namespace);
  Result<ExprPtr> parse_expression(bool with_condexpr);
  Result<ExprPtr> parse_condexpr();
  Result<ExprPtr> parse_or();
  Result<ExprPtr> parse_and();
  Result<ExprPtr> parse_not();
  Result<ExprPtr> parse_compare();
  Result<ExprPtr> parse_math1();
  Result<ExprPtr> parse_concat();
  Result<ExprPtr> parse_math2();
  Result<ExprPtr> parse_pow();
  Result<ExprPtr> parse_unary(bool with_filter);
  Result<ExprPtr> parse_primary(bool with_namespace);
  bool is_tuple_end(const Rules& extra_end) const;
  Result<ExprPtr> parse_tuple(bool simplified, bool with_condexpr, const Rules& extra_end,
                              bool explicit_parentheses, bool with_namespace);
  Result<ExprPtr> parse_list();
  Result<ExprPtr> parse_dict();
  Result<ExprPtr> parse_postfix(ExprPtr node);
  Result<ExprPtr> parse_filter_expr(ExprPtr node);
  Result<ExprPtr> parse_subscript(ExprPtr node);
  Result<ExprPtr> parse_subscribed();
  Status parse_call_args(CallArgsExpr& out);
  Result<ExprPtr> parse_call(ExprPtr node);
  Result<std::string> parse_dotted_name();
  Result<ExprPtr> parse_filter(ExprPtr node, bool start_inline);
  Result<ExprPtr> parse_test(ExprPtr node);

  std::vector<Token> tokens_;
  size_t idx_ = 0;
  const SourceMap& map_;
  const ParseLimits& limits_;
  uint32_t depth_ = 0;
  int loop_depth_ = 0;
  std::vector<std::string> tag_stack_;
  std::vector<Rules> end_token_stack_;
};

}  // namespace inferd::chat::jinja::parser_detail

#include "chat/jinja/parser.h"

#include <algorithm>
#include <initializer_list>

#include "chat/jinja/ast_walk.h"
#include "chat/jinja/source_map.h"
#include "chat/jinja/unicode.h"

namespace inferd::chat::jinja {
namespace {

// A token test as jinja2 writes it: a type, or a name with a given value ("name:endfor").
struct TokenRule {
  TokenType type;
  std::string_view name;  // for kName rules; empty matches any name
};

constexpr TokenRule name_rule(std::string_view name) { return {TokenType::kName, name}; }

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
    return std::any_of(rules.begin(), rules.end(), [&](const TokenRule& r) { return test(cur(), r); });
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
      return fail(fmt::format("expected token '{}', got '{}'", describe_rule(rule), describe(cur())));
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
      return fail(fmt::format("template nesting exceeds the limit of {} levels", limits_.max_nesting));
    }
    return Status::ok_status();
  }

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

  // ---- statements -----------------------------------------------------------------------------
  Status fail_unknown_or_eof(const std::string* name, uint32_t offset) const {
    std::vector<std::string> expected;
    for (const Rules& rules : end_token_stack_) {
      for (const TokenRule& r : rules) expected.push_back(describe_rule(r));
    }
    std::string currently_looking;
    if (!end_token_stack_.empty()) {
      for (const TokenRule& r : end_token_stack_.back()) {
        if (!currently_looking.empty()) currently_looking += " or ";
        currently_looking += fmt::format("'{}'", describe_rule(r));
      }
    }
    std::string message = name == nullptr ? "Unexpected end of template."
                                          : fmt::format("Encountered unknown tag '{}'.", *name);
    if (!currently_looking.empty()) {
      if (name != nullptr &&
          std::find(expected.begin(), expected.end(), *name) != expected.end()) {
        message += " You probably made a nesting mistake. Jinja is expecting this tag, but "
                   "currently looking for " + currently_looking + ".";
      } else {
        message += " Jinja was looking for the following tags: " + currently_looking + ".";
      }
    }
    if (!tag_stack_.empty()) {
      message += " The innermost block that needs to be closed is '" + tag_stack_.back() + "'.";
    }
    return fail_at(offset, message);
  }

  Result<Body> subparse(const Rules& end_tokens) {
    Body body;
    std::unique_ptr<OutputStmt> output;
    const bool has_end = !end_tokens.empty();
    if (has_end) end_token_stack_.push_back(end_tokens);
    auto flush = [&]() {
      if (output) body.push_back(std::move(output));
    };
    auto pop = [&]() {
      if (has_end) end_token_stack_.pop_back();
    };
    while (cur().type != TokenType::kEof) {
      const Token& t = cur();
      if (t.type == TokenType::kData) {
        if (!output) output = std::make_unique<OutputStmt>(t.offset);
        output->pieces.push_back({t.text, nullptr});
        advance();
      } else if (t.type == TokenType::kVariableBegin) {
        if (!output) output = std::make_unique<OutputStmt>(t.offset);
        advance();
        auto expr = parse_tuple(false, true, {}, false, false);
        if (!expr.ok()) {
          pop();
          return expr.status();
        }
        output->pieces.push_back({std::string(), std::move(expr).value()});
        Status st = expect_type(TokenType::kVariableEnd);
        if (!st.ok()) {
          pop();
          return st;
        }
      } else if (t.type == TokenType::kBlockBegin) {
        flush();
        advance();
        if (has_end && test_any(end_tokens)) {
          pop();
          return body;
        }
        auto stmt = parse_statement();
        if (!stmt.ok()) {
          pop();
          return stmt.status();
        }
        if (stmt.value() != nullptr) body.push_back(std::move(stmt).value());
        Status st = expect_type(TokenType::kBlockEnd);
        if (!st.ok()) {
          pop();
          return st;
        }
      } else {
        pop();
        return fail("internal parsing error");
      }
    }
    flush();
    pop();
    return body;
  }

  Result<Body> parse_statements(const Rules& end_tokens, bool drop_needle) {
    skip_if(TokenType::kColon);
    INFERD_RETURN_IF_ERROR(expect_type(TokenType::kBlockEnd));
    INFERD_ASSIGN_OR_RETURN(Body body, subparse(end_tokens));
    if (cur().type == TokenType::kEof) {
      end_token_stack_.push_back(end_tokens);
      Status st = fail_unknown_or_eof(nullptr, cur().offset);
      end_token_stack_.pop_back();
      return st;
    }
    if (drop_needle) advance();
    return body;
  }

  Result<StmtPtr> parse_statement() {
    const Token& t = cur();
    if (t.type != TokenType::kName) return fail("tag name expected");
    DepthGuard guard(depth_);
    INFERD_RETURN_IF_ERROR(check_depth());
    const std::string name = t.text;
    const uint32_t offset = t.offset;
    static const char* const kUnsupported[] = {"block", "extends", "include", "import", "from",
                                               "autoescape"};
    for (const char* u : kUnsupported) {
      if (name == u) {
        return fail(fmt::format("tag '{}' is not supported (templates are rendered standalone)", name));
      }
    }
    tag_stack_.push_back(name);
    Result<StmtPtr> result = dispatch_statement(name, offset);
    tag_stack_.pop_back();
    return result;
  }

  Result<StmtPtr> dispatch_statement(const std::string& name, uint32_t offset) {
    if (name == "for") return parse_for();
    if (name == "if") return parse_if();
    if (name == "set") return parse_set();
    if (name == "macro") return parse_macro();
    if (name == "call") return parse_call_block();
    if (name == "filter") return parse_filter_block();
    if (name == "with") return parse_with();
    if (name == "print") return parse_print();
    if (name == "generation") return parse_generation();
    if (name == "break" || name == "continue") {
      advance();
      if (loop_depth_ == 0) return fail_at(offset, fmt::format("'{}' outside of a loop", name));
      return StmtPtr(std::make_unique<Stmt>(name == "break" ? StmtKind::kBreak : StmtKind::kContinue,
                                            offset));
    }
    tag_stack_.pop_back();
    Status st = fail_unknown_or_eof(&name, offset);
    tag_stack_.push_back(name);
    return st;
  }

  Result<StmtPtr> parse_for() {
    auto node = std::make_unique<ForStmt>(advance().offset);
    INFERD_ASSIGN_OR_RETURN(node->target, parse_assign_target(true, false, {name_rule("in")}, false));
    INFERD_RETURN_IF_ERROR(expect(name_rule("in")).status());
    INFERD_ASSIGN_OR_RETURN(node->iter, parse_tuple(false, false, {name_rule("recursive")}, false, false));
    if (skip_if_name("if")) {
      INFERD_ASSIGN_OR_RETURN(node->filter, parse_expression(true));
    }
    node->recursive = skip_if_name("recursive");
    {
      LoopScope scope(*this, loop_depth_ + 1);
      INFERD_ASSIGN_OR_RETURN(node->body, parse_statements({name_rule("endfor"), name_rule("else")}, false));
    }
    if (advance().text != "endfor") {
      LoopScope scope(*this, loop_depth_);
      INFERD_ASSIGN_OR_RETURN(node->otherwise, parse_statements({name_rule("endfor")}, true));
    }
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> parse_if() {
    auto node = std::make_unique<IfStmt>(advance().offset);
    while (true) {
      INFERD_ASSIGN_OR_RETURN(ExprPtr test_expr, parse_tuple(false, false, {}, false, false));
      INFERD_ASSIGN_OR_RETURN(
          Body body,
          parse_statements({name_rule("elif"), name_rule("else"), name_rule("endif")}, false));
      node->branches.emplace_back(std::move(test_expr), std::move(body));
      const Token& end = advance();
      if (end.text == "elif") continue;
      if (end.text == "else") {
        INFERD_ASSIGN_OR_RETURN(node->otherwise, parse_statements({name_rule("endif")}, true));
      }
      break;
    }
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> parse_set() {
    const uint32_t offset = advance().offset;
    INFERD_ASSIGN_OR_RETURN(ExprPtr target, parse_assign_target(true, false, {}, true));
    if (skip_if(TokenType::kAssign)) {
      auto node = std::make_unique<SetStmt>(offset);
      node->target = std::move(target);
      INFERD_ASSIGN_OR_RETURN(node->value, parse_tuple(false, true, {}, false, false));
      return StmtPtr(std::move(node));
    }
    auto node = std::make_unique<SetBlockStmt>(offset);
    node->target = std::move(target);
    INFERD_ASSIGN_OR_RETURN(node->filter, parse_filter(nullptr, false));
    LoopScope scope(*this, loop_depth_);
    INFERD_ASSIGN_OR_RETURN(node->body, parse_statements({name_rule("endset")}, true));
    return StmtPtr(std::move(node));
  }

  Status parse_signature(MacroSignature& sig) {
    INFERD_RETURN_IF_ERROR(expect_type(TokenType::kLParen));
    while (cur().type != TokenType::kRParen) {
      if (!sig.params.empty()) INFERD_RETURN_IF_ERROR(expect_type(TokenType::kComma));
      INFERD_ASSIGN_OR_RETURN(Token name, expect(TokenRule{TokenType::kName, {}}));
      if (skip_if(TokenType::kAssign)) {
        INFERD_ASSIGN_OR_RETURN(ExprPtr dflt, parse_expression(true));
        sig.defaults.push_back(std::move(dflt));
      } else if (!sig.defaults.empty()) {
        return fail("non-default argument follows default argument");
      }
      sig.params.push_back(name.text);
    }
    return expect_type(TokenType::kRParen);
  }

  Result<StmtPtr> parse_macro() {
    auto node = std::make_unique<MacroStmt>(advance().offset);
    INFERD_ASSIGN_OR_RETURN(Token name, expect(TokenRule{TokenType::kName, {}}));
    node->name = name.text;
    INFERD_RETURN_IF_ERROR(parse_signature(node->signature));
    {
      LoopScope scope(*this, 0);
      INFERD_ASSIGN_OR_RETURN(node->body, parse_statements({name_rule("endmacro")}, true));
    }
    mark_special_names(node->body, node->signature);
    INFERD_RETURN_IF_ERROR(check_explicit_caller(node->signature, node->offset));
    return StmtPtr(std::move(node));
  }

  // A body that uses `caller` may declare it as a parameter only with a default.
  Status check_explicit_caller(const MacroSignature& sig, uint32_t offset) const {
    if (!sig.uses_caller) return Status::ok_status();
    const size_t first_default = sig.params.size() - sig.defaults.size();
    for (size_t i = 0; i < first_default; ++i) {
      if (sig.params[i] == "caller") {
        return fail_at(offset,
                       "When defining macros or call blocks the special \"caller\" argument must "
                       "be omitted or be given a default.");
      }
    }
    return Status::ok_status();
  }

  Result<StmtPtr> parse_call_block() {
    auto node = std::make_unique<CallBlockStmt>(advance().offset);
    if (cur().type == TokenType::kLParen) INFERD_RETURN_IF_ERROR(parse_signature(node->signature));
    INFERD_ASSIGN_OR_RETURN(node->call, parse_expression(true));
    if (node->call->kind != ExprKind::kCall) return fail_at(node->offset, "expected call");
    {
      LoopScope scope(*this, 0);
      INFERD_ASSIGN_OR_RETURN(node->body, parse_statements({name_rule("endcall")}, true));
    }
    mark_special_names(node->body, node->signature);
    INFERD_RETURN_IF_ERROR(check_explicit_caller(node->signature, node->offset));
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> parse_filter_block() {
    auto node = std::make_unique<FilterBlockStmt>(advance().offset);
    INFERD_ASSIGN_OR_RETURN(node->filter, parse_filter(nullptr, true));
    LoopScope scope(*this, loop_depth_);
    INFERD_ASSIGN_OR_RETURN(node->body, parse_statements({name_rule("endfilter")}, true));
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> parse_with() {
    auto node = std::make_unique<WithStmt>(advance().offset);
    while (cur().type != TokenType::kBlockEnd) {
      if (!node->assignments.empty()) INFERD_RETURN_IF_ERROR(expect_type(TokenType::kComma));
      INFERD_ASSIGN_OR_RETURN(ExprPtr target, parse_assign_target(true, false, {}, false));
      INFERD_RETURN_IF_ERROR(expect_type(TokenType::kAssign));
      INFERD_ASSIGN_OR_RETURN(ExprPtr value, parse_expression(true));
      node->assignments.emplace_back(std::move(target), std::move(value));
    }
    LoopScope scope(*this, loop_depth_);
    INFERD_ASSIGN_OR_RETURN(node->body, parse_statements({name_rule("endwith")}, true));
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> parse_print() {
    auto node = std::make_unique<OutputStmt>(advance().offset);
    while (cur().type != TokenType::kBlockEnd) {
      if (!node->pieces.empty()) INFERD_RETURN_IF_ERROR(expect_type(TokenType::kComma));
      INFERD_ASSIGN_OR_RETURN(ExprPtr e, parse_expression(true));
      node->pieces.push_back({std::string(), std::move(e)});
    }
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> parse_generation() {
    auto node = std::make_unique<ScopeStmt>(advance().offset);
    LoopScope scope(*this, 0);
    INFERD_ASSIGN_OR_RETURN(node->body, parse_statements({name_rule("endgeneration")}, true));
    return StmtPtr(std::move(node));
  }

  // ---- expressions ----------------------------------------------------------------------------
  static bool can_assign(const Expr* e) {
    switch (e->kind) {
      case ExprKind::kName:
      case ExprKind::kNsRef:
        return true;
      case ExprKind::kTuple:
        for (const auto& i : static_cast<const SeqExpr*>(e)->items) {
          if (!can_assign(i.get())) return false;
        }
        return true;
      default:
        return false;
    }
  }
  static const char* node_type_name(const Expr* e) {
    switch (e->kind) {
      case ExprKind::kConst: return "const";
      case ExprKind::kList: return "list";
      case ExprKind::kTuple: return "tuple";
      case ExprKind::kDict: return "dict";
      case ExprKind::kGetattr: return "getattr";
      case ExprKind::kGetitem: return "getitem";
      case ExprKind::kCall: return "call";
      default: return "expression";
    }
  }

  Result<ExprPtr> parse_assign_target(bool with_tuple, bool name_only, const Rules& extra_end,
                                      bool with_namespace) {
    ExprPtr target;
    if (name_only) {
      INFERD_ASSIGN_OR_RETURN(Token t, expect(TokenRule{TokenType::kName, {}}));
      target = std::make_unique<NameExpr>(t.offset, t.text);
    } else if (with_tuple) {
      INFERD_ASSIGN_OR_RETURN(target, parse_tuple(true, true, extra_end, false, with_namespace));
    } else {
      INFERD_ASSIGN_OR_RETURN(target, parse_primary(with_namespace));
    }
    if (!can_assign(target.get())) {
      return fail_at(target->offset, fmt::format("can't assign to '{}'", node_type_name(target.get())));
    }
    return target;
  }

  Result<ExprPtr> parse_expression(bool with_condexpr) {
    DepthGuard guard(depth_);
    INFERD_RETURN_IF_ERROR(check_depth());
    if (with_condexpr) return parse_condexpr();
    return parse_or();
  }

  Result<ExprPtr> parse_condexpr() {
    const uint32_t offset = cur().offset;
    INFERD_ASSIGN_OR_RETURN(ExprPtr expr1, parse_or());
    while (skip_if_name("if")) {
      INFERD_ASSIGN_OR_RETURN(ExprPtr expr2, parse_or());
      ExprPtr expr3;
      if (skip_if_name("else")) {
        DepthGuard guard(depth_);
        INFERD_RETURN_IF_ERROR(check_depth());
        INFERD_ASSIGN_OR_RETURN(expr3, parse_condexpr());
      }
      expr1 = std::make_unique<CondExpr>(offset, std::move(expr2), std::move(expr1), std::move(expr3));
    }
    return expr1;
  }

  Result<ExprPtr> parse_or() {
    const uint32_t offset = cur().offset;
    INFERD_ASSIGN_OR_RETURN(ExprPtr left, parse_and());
    while (skip_if_name("or")) {
      INFERD_ASSIGN_OR_RETURN(ExprPtr right, parse_and());
      left = std::make_unique<LogicalExpr>(ExprKind::kOr, offset, std::move(left), std::move(right));
    }
    return left;
  }

  Result<ExprPtr> parse_and() {
    const uint32_t offset = cur().offset;
    INFERD_ASSIGN_OR_RETURN(ExprPtr left, parse_not());
    while (skip_if_name("and")) {
      INFERD_ASSIGN_OR_RETURN(ExprPtr right, parse_not());
      left = std::make_unique<LogicalExpr>(ExprKind::kAnd, offset, std::move(left), std::move(right));
    }
    return left;
  }

  Result<ExprPtr> parse_not() {
    if (is_name("not")) {
      const uint32_t offset = advance().offset;
      DepthGuard guard(depth_);
      INFERD_RETURN_IF_ERROR(check_depth());
      INFERD_ASSIGN_OR_RETURN(ExprPtr operand, parse_not());
      return ExprPtr(std::make_unique<NotExpr>(offset, std::move(operand)));
    }
    return parse_compare();
  }

  Result<ExprPtr> parse_compare() {
    const uint32_t offset = cur().offset;
    INFERD_ASSIGN_OR_RETURN(ExprPtr expr, parse_math1());
    std::vector<std::pair<CompareKind, ExprPtr>> ops;
    while (true) {
      CompareKind kind;
      switch (cur().type) {
        case TokenType::kEq: kind = CompareKind::kEq; break;
        case TokenType::kNe: kind = CompareKind::kNe; break;
        case TokenType::kLt: kind = CompareKind::kLt; break;
        case TokenType::kLe: kind = CompareKind::kLe; break;
        case TokenType::kGt: kind = CompareKind::kGt; break;
        case TokenType::kGe: kind = CompareKind::kGe; break;
        default:
          if (is_name("in")) {
            kind = CompareKind::kIn;
          } else if (is_name("not") && look().type == TokenType::kName && look().text == "in") {
            advance();
            kind = CompareKind::kNotIn;
          } else {
            goto done;
          }
      }
      advance();
      {
        INFERD_ASSIGN_OR_RETURN(ExprPtr rhs, parse_math1());
        ops.emplace_back(kind, std::move(rhs));
      }
    }
  done:
    if (ops.empty()) return expr;
    auto node = std::make_unique<CompareExpr>(offset, std::move(expr));
    node->ops = std::move(ops);
    return ExprPtr(std::move(node));
  }

  Result<ExprPtr> parse_math1() {
    const uint32_t offset = cur().offset;
    INFERD_ASSIGN_OR_RETURN(ExprPtr left, parse_concat());
    while (cur().type == TokenType::kAdd || cur().type == TokenType::kSub) {
      const BinaryOp op = cur().type == TokenType::kAdd ? BinaryOp::kAdd : BinaryOp::kSub;
      advance();
      INFERD_ASSIGN_OR_RETURN(ExprPtr right, parse_concat());
      left = std::make_unique<BinaryExpr>(offset, op, std::move(left), std::move(right));
    }
    return left;
  }

  Result<ExprPtr> parse_concat() {
    const uint32_t offset = cur().offset;
    INFERD_ASSIGN_OR_RETURN(ExprPtr first, parse_math2());
    if (cur().type != TokenType::kTilde) return first;
    auto node = std::make_unique<ConcatExpr>(offset);
    node->parts.push_back(std::move(first));
    while (skip_if(TokenType::kTilde)) {
      INFERD_ASSIGN_OR_RETURN(ExprPtr part, parse_math2());
      node->parts.push_back(std::move(part));
    }
    return ExprPtr(std::move(node));
  }

  Result<ExprPtr> parse_math2() {
    const uint32_t offset = cur().offset;
    INFERD_ASSIGN_OR_RETURN(ExprPtr left, parse_pow());
    while (true) {
      BinaryOp op;
      switch (cur().type) {
        case TokenType::kMul: op = BinaryOp::kMul; break;
        case TokenType::kDiv: op = BinaryOp::kDiv; break;
        case TokenType::kFloorDiv: op = BinaryOp::kFloorDiv; break;
        case TokenType::kMod: op = BinaryOp::kMod; break;
        default: return left;
      }
      advance();
      INFERD_ASSIGN_OR_RETURN(ExprPtr right, parse_pow());
      left = std::make_unique<BinaryExpr>(offset, op, std::move(left), std::move(right));
    }
  }

  Result<ExprPtr> parse_pow() {
    const uint32_t offset = cur().offset;
    INFERD_ASSIGN_OR_RETURN(ExprPtr left, parse_unary(true));
    while (skip_if(TokenType::kPow)) {
      INFERD_ASSIGN_OR_RETURN(ExprPtr right, parse_unary(true));
      left = std::make_unique<BinaryExpr>(offset, BinaryOp::kPow, std::move(left), std::move(right));
    }
    return left;
  }

  Result<ExprPtr> parse_unary(bool with_filter) {
    DepthGuard guard(depth_);
    INFERD_RETURN_IF_ERROR(check_depth());
    const uint32_t offset = cur().offset;
    ExprPtr node;
    if (cur().type == TokenType::kSub || cur().type == TokenType::kAdd) {
      const bool negate = cur().type == TokenType::kSub;
      advance();
      INFERD_ASSIGN_OR_RETURN(ExprPtr operand, parse_unary(false));
      node = std::make_unique<UnaryExpr>(offset, negate, std::move(operand));
    } else {
      INFERD_ASSIGN_OR_RETURN(node, parse_primary(false));
    }
    INFERD_ASSIGN_OR_RETURN(node, parse_postfix(std::move(node)));
    if (with_filter) {
      INFERD_ASSIGN_OR_RETURN(node, parse_filter_expr(std::move(node)));
    }
    return node;
  }

  Result<ExprPtr> parse_primary(bool with_namespace) {
    DepthGuard guard(depth_);
    INFERD_RETURN_IF_ERROR(check_depth());
    const Token& t = cur();
    const uint32_t offset = t.offset;
    switch (t.type) {
      case TokenType::kName: {
        const std::string name = advance().text;
        if (name == "true" || name == "True") return ExprPtr(std::make_unique<ConstExpr>(offset, Value::boolean(true)));
        if (name == "false" || name == "False") return ExprPtr(std::make_unique<ConstExpr>(offset, Value::boolean(false)));
        if (name == "none" || name == "None") return ExprPtr(std::make_unique<ConstExpr>(offset, Value::none()));
        if (with_namespace && cur().type == TokenType::kDot) {
          advance();
          INFERD_ASSIGN_OR_RETURN(Token attr, expect(TokenRule{TokenType::kName, {}}));
          return ExprPtr(std::make_unique<NsRefExpr>(offset, name, attr.text));
        }
        return ExprPtr(std::make_unique<NameExpr>(offset, name));
      }
      case TokenType::kString: {
        std::string text = advance().text;
        while (cur().type == TokenType::kString) text += advance().text;
        return ExprPtr(std::make_unique<ConstExpr>(offset, Value::string(std::move(text))));
      }
      case TokenType::kInteger:
        return ExprPtr(std::make_unique<ConstExpr>(offset, Value::integer(advance().int_value)));
      case TokenType::kFloat:
        return ExprPtr(std::make_unique<ConstExpr>(offset, Value::number(advance().float_value)));
      case TokenType::kLParen: {
        advance();
        INFERD_ASSIGN_OR_RETURN(ExprPtr inner, parse_tuple(false, true, {}, true, false));
        INFERD_RETURN_IF_ERROR(expect_type(TokenType::kRParen));
        return inner;
      }
      case TokenType::kLBracket: return parse_list();
      case TokenType::kLBrace: return parse_dict();
      default:
        return fail(fmt::format("unexpected '{}'", describe(t)));
    }
  }

  bool is_tuple_end(const Rules& extra_end) const {
    const TokenType type = cur().type;
    if (type == TokenType::kVariableEnd || type == TokenType::kBlockEnd || type == TokenType::kRParen) {
      return true;
    }
    return test_any(extra_end);
  }

  Result<ExprPtr> parse_tuple(bool simplified, bool with_condexpr, const Rules& extra_end,
                              bool explicit_parentheses, bool with_namespace) {
    const uint32_t offset = cur().offset;
    std::vector<ExprPtr> args;
    bool is_tuple = false;
    while (true) {
      if (!args.empty()) INFERD_RETURN_IF_ERROR(expect_type(TokenType::kComma));
      if (is_tuple_end(extra_end)) break;
      ExprPtr item;
      if (simplified) {
        INFERD_ASSIGN_OR_RETURN(item, parse_primary(with_namespace));
      } else {
        INFERD_ASSIGN_OR_RETURN(item, parse_expression(with_condexpr));
      }
      args.push_back(std::move(item));
      if (cur().type == TokenType::kComma) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!args.empty()) return std::move(args[0]);
      if (!explicit_parentheses) {
        return fail(fmt::format("Expected an expression, got '{}'", describe(cur())));
      }
    }
    auto node = std::make_unique<SeqExpr>(ExprKind::kTuple, offset);
    node->items = std::move(args);
    return ExprPtr(std::move(node));
  }

  Result<ExprPtr> parse_list() {
    const uint32_t offset = advance().offset;
    auto node = std::make_unique<SeqExpr>(ExprKind::kList, offset);
    while (cur().type != TokenType::kRBracket) {
      if (!node->items.empty()) INFERD_RETURN_IF_ERROR(expect_type(TokenType::kComma));
      if (cur().type == TokenType::kRBracket) break;
      INFERD_ASSIGN_OR_RETURN(ExprPtr item, parse_expression(true));
      node->items.push_back(std::move(item));
    }
    INFERD_RETURN_IF_ERROR(expect_type(TokenType::kRBracket));
    return ExprPtr(std::move(node));
  }

  Result<ExprPtr> parse_dict() {
    const uint32_t offset = advance().offset;
    auto node = std::make_unique<DictExpr>(offset);
    while (cur().type != TokenType::kRBrace) {
      if (!node->items.empty()) INFERD_RETURN_IF_ERROR(expect_type(TokenType::kComma));
      if (cur().type == TokenType::kRBrace) break;
      INFERD_ASSIGN_OR_RETURN(ExprPtr key, parse_expression(true));
      INFERD_RETURN_IF_ERROR(expect_type(TokenType::kColon));
      INFERD_ASSIGN_OR_RETURN(ExprPtr value, parse_expression(true));
      node->items.emplace_back(std::move(key), std::move(value));
    }
    INFERD_RETURN_IF_ERROR(expect_type(TokenType::kRBrace));
    return ExprPtr(std::move(node));
  }

  Result<ExprPtr> parse_postfix(ExprPtr node) {
    while (true) {
      const TokenType type = cur().type;
      if (type == TokenType::kDot || type == TokenType::kLBracket) {
        INFERD_ASSIGN_OR_RETURN(node, parse_subscript(std::move(node)));
      } else if (type == TokenType::kLParen) {
        INFERD_ASSIGN_OR_RETURN(node, parse_call(std::move(node)));
      } else {
        return node;
      }
    }
  }

  Result<ExprPtr> parse_filter_expr(ExprPtr node) {
    while (true) {
      const TokenType type = cur().type;
      if (type == TokenType::kPipe) {
        INFERD_ASSIGN_OR_RETURN(node, parse_filter(std::move(node), false));
      } else if (is_name("is")) {
        INFERD_ASSIGN_OR_RETURN(node, parse_test(std::move(node)));
      } else if (type == TokenType::kLParen) {
        INFERD_ASSIGN_OR_RETURN(node, parse_call(std::move(node)));
      } else {
        return node;
      }
    }
  }

  Result<ExprPtr> parse_subscript(ExprPtr node) {
    const Token& t = advance();
    const uint32_t offset = t.offset;
    if (t.type == TokenType::kDot) {
      const Token& attr = advance();
      if (attr.type == TokenType::kName) {
        return ExprPtr(std::make_unique<GetattrExpr>(offset, std::move(node), attr.text));
      }
      if (attr.type != TokenType::kInteger) return fail_at(attr.offset, "expected name or number");
      auto key = std::make_unique<ConstExpr>(attr.offset, Value::integer(attr.int_value));
      return ExprPtr(std::make_unique<GetitemExpr>(offset, std::move(node), std::move(key)));
    }
    // '['
    std::vector<ExprPtr> args;
    while (cur().type != TokenType::kRBracket) {
      if (!args.empty()) INFERD_RETURN_IF_ERROR(expect_type(TokenType::kComma));
      INFERD_ASSIGN_OR_RETURN(ExprPtr arg, parse_subscribed());
      args.push_back(std::move(arg));
    }
    INFERD_RETURN_IF_ERROR(expect_type(TokenType::kRBracket));
    ExprPtr key;
    if (args.size() == 1) {
      key = std::move(args[0]);
    } else {
      auto tuple = std::make_unique<SeqExpr>(ExprKind::kTuple, offset);
      tuple->items = std::move(args);
      key = std::move(tuple);
    }
    return ExprPtr(std::make_unique<GetitemExpr>(offset, std::move(node), std::move(key)));
  }

  Result<ExprPtr> parse_subscribed() {
    const uint32_t offset = cur().offset;
    auto slice = std::make_unique<SliceExpr>(offset);
    if (cur().type == TokenType::kColon) {
      advance();
    } else {
      INFERD_ASSIGN_OR_RETURN(ExprPtr node, parse_expression(true));
      if (cur().type != TokenType::kColon) return node;
      advance();
      slice->start = std::move(node);
    }
    if (cur().type != TokenType::kColon && cur().type != TokenType::kRBracket &&
        cur().type != TokenType::kComma) {
      INFERD_ASSIGN_OR_RETURN(slice->stop, parse_expression(true));
    }
    if (cur().type == TokenType::kColon) {
      advance();
      if (cur().type != TokenType::kRBracket && cur().type != TokenType::kComma) {
        INFERD_ASSIGN_OR_RETURN(slice->step, parse_expression(true));
      }
    }
    return ExprPtr(std::move(slice));
  }

  Status parse_call_args(CallArgsExpr& out) {
    const uint32_t offset = cur().offset;
    INFERD_RETURN_IF_ERROR(expect_type(TokenType::kLParen));
    bool require_comma = false;
    auto ensure = [&](bool ok) -> Status {
      if (!ok) return fail_at(offset, "invalid syntax for function call expression");
      return Status::ok_status();
    };
    while (cur().type != TokenType::kRParen) {
      if (require_comma) {
        INFERD_RETURN_IF_ERROR(expect_type(TokenType::kComma));
        if (cur().type == TokenType::kRParen) break;
      }
      if (cur().type == TokenType::kMul) {
        INFERD_RETURN_IF_ERROR(ensure(out.dyn_args == nullptr && out.dyn_kwargs == nullptr));
        advance();
        INFERD_ASSIGN_OR_RETURN(out.dyn_args, parse_expression(true));
      } else if (cur().type == TokenType::kPow) {
        INFERD_RETURN_IF_ERROR(ensure(out.dyn_kwargs == nullptr));
        advance();
        INFERD_ASSIGN_OR_RETURN(out.dyn_kwargs, parse_expression(true));
      } else if (cur().type == TokenType::kName && look().type == TokenType::kAssign) {
        INFERD_RETURN_IF_ERROR(ensure(out.dyn_kwargs == nullptr));
        std::string key = advance().text;
        advance();
        INFERD_ASSIGN_OR_RETURN(ExprPtr value, parse_expression(true));
        out.kwargs.emplace_back(std::move(key), std::move(value));
      } else {
        INFERD_RETURN_IF_ERROR(
            ensure(out.dyn_args == nullptr && out.dyn_kwargs == nullptr && out.kwargs.empty()));
        INFERD_ASSIGN_OR_RETURN(ExprPtr value, parse_expression(true));
        out.args.push_back(std::move(value));
      }
      require_comma = true;
    }
    return expect_type(TokenType::kRParen);
  }

  Result<ExprPtr> parse_call(ExprPtr node) {
    auto call = std::make_unique<CallExpr>(cur().offset, std::move(node));
    INFERD_RETURN_IF_ERROR(parse_call_args(call->args));
    return ExprPtr(std::move(call));
  }

  Result<std::string> parse_dotted_name() {
    INFERD_ASSIGN_OR_RETURN(Token t, expect(TokenRule{TokenType::kName, {}}));
    std::string name = t.text;
    while (cur().type == TokenType::kDot) {
      advance();
      INFERD_ASSIGN_OR_RETURN(Token part, expect(TokenRule{TokenType::kName, {}}));
      name += "." + part.text;
    }
    return name;
  }

  Result<ExprPtr> parse_filter(ExprPtr node, bool start_inline) {
    while (cur().type == TokenType::kPipe || start_inline) {
      if (!start_inline) advance();
      const uint32_t offset = cur().offset;
      INFERD_ASSIGN_OR_RETURN(std::string name, parse_dotted_name());
      auto filter = std::make_unique<FilterExpr>(offset, std::move(node), std::move(name));
      if (cur().type == TokenType::kLParen) INFERD_RETURN_IF_ERROR(parse_call_args(filter->args));
      node = std::move(filter);
      start_inline = false;
    }
    return node;
  }

  Result<ExprPtr> parse_test(ExprPtr node) {
    const uint32_t offset = advance().offset;  // 'is'
    const bool negated = skip_if_name("not");
    INFERD_ASSIGN_OR_RETURN(std::string name, parse_dotted_name());
    auto test_node = std::make_unique<TestExpr>(offset, std::move(node), std::move(name));
    const TokenType type = cur().type;
    if (type == TokenType::kLParen) {
      INFERD_RETURN_IF_ERROR(parse_call_args(test_node->args));
    } else if ((type == TokenType::kName || type == TokenType::kString ||
                type == TokenType::kInteger || type == TokenType::kFloat ||
                type == TokenType::kLParen || type == TokenType::kLBracket ||
                type == TokenType::kLBrace) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) return fail("You cannot chain multiple tests with is");
      INFERD_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary(false));
      INFERD_ASSIGN_OR_RETURN(arg, parse_postfix(std::move(arg)));
      test_node->args.args.push_back(std::move(arg));
    }
    ExprPtr result = std::move(test_node);
    if (negated) result = std::make_unique<NotExpr>(offset, std::move(result));
    return result;
  }

  std::vector<Token> tokens_;
  size_t idx_ = 0;
  const SourceMap& map_;
  const ParseLimits& limits_;
  uint32_t depth_ = 0;
  int loop_depth_ = 0;
  std::vector<std::string> tag_stack_;
  std::vector<Rules> end_token_stack_;
};

}  // namespace

Result<TemplateAst> parse_template(std::string_view source, const LexerOptions& lexer_options,
                                   const ParseLimits& limits) {
  if (source.size() > limits.max_source_bytes) {
    return resource_exhausted("template source of {} bytes exceeds the limit of {}", source.size(),
                              limits.max_source_bytes);
  }
  if (!unicode::is_valid_utf8(source)) {
    return invalid_argument("template source is not valid UTF-8");
  }
  TemplateAst ast;
  ast.source = normalize_source(source, lexer_options.keep_trailing_newline);
  const SourceMap map(ast.source);
  INFERD_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(ast.source, map, lexer_options));
  Parser parser(std::move(tokens), map, limits);
  INFERD_ASSIGN_OR_RETURN(ast.body, parser.parse());
  INFERD_RETURN_IF_ERROR(check_filter_and_test_names(ast.body, map));
  return ast;
}

}  // namespace inferd::chat::jinja

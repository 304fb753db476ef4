// Expression parsing: jinja2's precedence climbing (conditional, or, and, not, comparisons,
// + -, ~, * / // %, **, unary, postfix subscripts/calls, filters and tests).
#include "chat/jinja/parser_impl.h"

namespace inferd::chat::jinja::parser_detail {

bool Parser::can_assign(const Expr* e) {
  switch (e->kind) {
    case ExprKind::kName:
    case ExprKind::kNsRef: return true;
    case ExprKind::kTuple:
      for (const auto& i : static_cast<const SeqExpr*>(e)->items) {
        if (!can_assign(i.get())) return false;
      }
      return true;
    default: return false;
  }
}

const char* Parser::node_type_name(const Expr* e) {
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

Result<ExprPtr> Parser::parse_assign_target(bool with_tuple, bool name_only, const Rules& extra_end,
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
    return fail_at(target->offset,
                   fmt::format("can't assign to '{}'", node_type_name(target.get())));
  }
  return target;
}

Result<ExprPtr> Parser::parse_expression(bool with_condexpr) {
  DepthGuard guard(depth_);
  INFERD_RETURN_IF_ERROR(check_depth());
  if (with_condexpr) return parse_condexpr();
  return parse_or();
}

Result<ExprPtr> Parser::parse_condexpr() {
  const uint32_t offset = cur().offset;
  INFERD_ASSIGN_OR_RETURN(ExprPtr expr1, parse_or());
  ChainGuard chain(*this);
  while (skip_if_name("if")) {
    INFERD_RETURN_IF_ERROR(chain.step());
    INFERD_ASSIGN_OR_RETURN(ExprPtr expr2, parse_or());
    ExprPtr expr3;
    if (skip_if_name("else")) {
      DepthGuard guard(depth_);
      INFERD_RETURN_IF_ERROR(check_depth());
      INFERD_ASSIGN_OR_RETURN(expr3, parse_condexpr());
    }
    expr1 =
        std::make_unique<CondExpr>(offset, std::move(expr2), std::move(expr1), std::move(expr3));
  }
  return expr1;
}

Result<ExprPtr> Parser::parse_or() {
  const uint32_t offset = cur().offset;
  INFERD_ASSIGN_OR_RETURN(ExprPtr left, parse_and());
  ChainGuard chain(*this);
  while (skip_if_name("or")) {
    INFERD_RETURN_IF_ERROR(chain.step());
    INFERD_ASSIGN_OR_RETURN(ExprPtr right, parse_and());
    left = std::make_unique<LogicalExpr>(ExprKind::kOr, offset, std::move(left), std::move(right));
  }
  return left;
}

Result<ExprPtr> Parser::parse_and() {
  const uint32_t offset = cur().offset;
  INFERD_ASSIGN_OR_RETURN(ExprPtr left, parse_not());
  ChainGuard chain(*this);
  while (skip_if_name("and")) {
    INFERD_RETURN_IF_ERROR(chain.step());
    INFERD_ASSIGN_OR_RETURN(ExprPtr right, parse_not());
    left = std::make_unique<LogicalExpr>(ExprKind::kAnd, offset, std::move(left), std::move(right));
  }
  return left;
}

Result<ExprPtr> Parser::parse_not() {
  if (is_name("not")) {
    const uint32_t offset = advance().offset;
    DepthGuard guard(depth_);
    INFERD_RETURN_IF_ERROR(check_depth());
    INFERD_ASSIGN_OR_RETURN(ExprPtr operand, parse_not());
    return ExprPtr(std::make_unique<NotExpr>(offset, std::move(operand)));
  }
  return parse_compare();
}

Result<ExprPtr> Parser::parse_compare() {
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

Result<ExprPtr> Parser::parse_math1() {
  const uint32_t offset = cur().offset;
  INFERD_ASSIGN_OR_RETURN(ExprPtr left, parse_concat());
  ChainGuard chain(*this);
  while (cur().type == TokenType::kAdd || cur().type == TokenType::kSub) {
    INFERD_RETURN_IF_ERROR(chain.step());
    const BinaryOp op = cur().type == TokenType::kAdd ? BinaryOp::kAdd : BinaryOp::kSub;
    advance();
    INFERD_ASSIGN_OR_RETURN(ExprPtr right, parse_concat());
    left = std::make_unique<BinaryExpr>(offset, op, std::move(left), std::move(right));
  }
  return left;
}

Result<ExprPtr> Parser::parse_concat() {
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

Result<ExprPtr> Parser::parse_math2() {
  const uint32_t offset = cur().offset;
  INFERD_ASSIGN_OR_RETURN(ExprPtr left, parse_pow());
  ChainGuard chain(*this);
  while (true) {
    INFERD_RETURN_IF_ERROR(chain.step());
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

Result<ExprPtr> Parser::parse_pow() {
  const uint32_t offset = cur().offset;
  INFERD_ASSIGN_OR_RETURN(ExprPtr left, parse_unary(true));
  ChainGuard chain(*this);
  while (skip_if(TokenType::kPow)) {
    INFERD_RETURN_IF_ERROR(chain.step());
    INFERD_ASSIGN_OR_RETURN(ExprPtr right, parse_unary(true));
    left = std::make_unique<BinaryExpr>(offset, BinaryOp::kPow, std::move(left), std::move(right));
  }
  return left;
}

Result<ExprPtr> Parser::parse_unary(bool with_filter) {
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

Result<ExprPtr> Parser::parse_primary(bool with_namespace) {
  DepthGuard guard(depth_);
  INFERD_RETURN_IF_ERROR(check_depth());
  const Token& t = cur();
  const uint32_t offset = t.offset;
  switch (t.type) {
    case TokenType::kName: {
      const std::string name = advance().text;
      if (name == "true" || name == "True")
        return ExprPtr(std::make_unique<ConstExpr>(offset, Value::boolean(true)));
      if (name == "false" || name == "False")
        return ExprPtr(std::make_unique<ConstExpr>(offset, Value::boolean(false)));
      if (name == "none" || name == "None")
        return ExprPtr(std::make_unique<ConstExpr>(offset, Value::none()));
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
    default: return fail(fmt::format("unexpected '{}'", describe(t)));
  }
}

bool Parser::is_tuple_end(const Rules& extra_end) const {
  const TokenType type = cur().type;
  if (type == TokenType::kVariableEnd || type == TokenType::kBlockEnd ||
      type == TokenType::kRParen) {
    return true;
  }
  return test_any(extra_end);
}

Result<ExprPtr> Parser::parse_tuple(bool simplified, bool with_condexpr, const Rules& extra_end,
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

Result<ExprPtr> Parser::parse_list() {
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

Result<ExprPtr> Parser::parse_dict() {
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

Result<ExprPtr> Parser::parse_postfix(ExprPtr node) {
  ChainGuard chain(*this);
  while (true) {
    INFERD_RETURN_IF_ERROR(chain.step());
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

Result<ExprPtr> Parser::parse_filter_expr(ExprPtr node) {
  ChainGuard chain(*this);
  while (true) {
    INFERD_RETURN_IF_ERROR(chain.step());
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

Result<ExprPtr> Parser::parse_subscript(ExprPtr node) {
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

Result<ExprPtr> Parser::parse_subscribed() {
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

Status Parser::parse_call_args(CallArgsExpr& out) {
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

Result<ExprPtr> Parser::parse_call(ExprPtr node) {
  auto call = std::make_unique<CallExpr>(cur().offset, std::move(node));
  INFERD_RETURN_IF_ERROR(parse_call_args(call->args));
  return ExprPtr(std::move(call));
}

Result<std::string> Parser::parse_dotted_name() {
  INFERD_ASSIGN_OR_RETURN(Token t, expect(TokenRule{TokenType::kName, {}}));
  std::string name = t.text;
  while (cur().type == TokenType::kDot) {
    advance();
    INFERD_ASSIGN_OR_RETURN(Token part, expect(TokenRule{TokenType::kName, {}}));
    name += "." + part.text;
  }
  return name;
}

Result<ExprPtr> Parser::parse_filter(ExprPtr node, bool start_inline) {
  ChainGuard chain(*this);
  while (cur().type == TokenType::kPipe || start_inline) {
    INFERD_RETURN_IF_ERROR(chain.step());
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

Result<ExprPtr> Parser::parse_test(ExprPtr node) {
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

}  // namespace inferd::chat::jinja::parser_detail

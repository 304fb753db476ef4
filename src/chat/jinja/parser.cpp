#include "chat/jinja/parser.h"

#include <algorithm>

#include "chat/jinja/ast_walk.h"
#include "chat/jinja/parser_impl.h"
#include "chat/jinja/unicode.h"

namespace inferd::chat::jinja {
namespace parser_detail {

Status Parser::fail_unknown_or_eof(const std::string* name, uint32_t offset) const {
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
    if (name != nullptr && std::find(expected.begin(), expected.end(), *name) != expected.end()) {
      message +=
          " You probably made a nesting mistake. Jinja is expecting this tag, but "
          "currently looking for " +
          currently_looking + ".";
    } else {
      message += " Jinja was looking for the following tags: " + currently_looking + ".";
    }
  }
  if (!tag_stack_.empty()) {
    message += " The innermost block that needs to be closed is '" + tag_stack_.back() + "'.";
  }
  return fail_at(offset, message);
}

Result<Body> Parser::subparse(const Rules& end_tokens) {
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

Result<Body> Parser::parse_statements(const Rules& end_tokens, bool drop_needle) {
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

Result<StmtPtr> Parser::parse_statement() {
  const Token& t = cur();
  if (t.type != TokenType::kName) return fail("tag name expected");
  DepthGuard guard(depth_);
  INFERD_RETURN_IF_ERROR(check_depth());
  const std::string name = t.text;
  const uint32_t offset = t.offset;
  static const char* const kUnsupported[] = {"block",  "extends", "include",
                                             "import", "from",    "autoescape"};
  for (const char* u : kUnsupported) {
    if (name == u) {
      return fail(
          fmt::format("tag '{}' is not supported (templates are rendered standalone)", name));
    }
  }
  tag_stack_.push_back(name);
  Result<StmtPtr> result = dispatch_statement(name, offset);
  tag_stack_.pop_back();
  return result;
}

Result<StmtPtr> Parser::dispatch_statement(const std::string& name, uint32_t offset) {
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
    return StmtPtr(
        std::make_unique<Stmt>(name == "break" ? StmtKind::kBreak : StmtKind::kContinue, offset));
  }
  tag_stack_.pop_back();
  Status st = fail_unknown_or_eof(&name, offset);
  tag_stack_.push_back(name);
  return st;
}

Result<StmtPtr> Parser::parse_for() {
  auto node = std::make_unique<ForStmt>(advance().offset);
  INFERD_ASSIGN_OR_RETURN(node->target, parse_assign_target(true, false, {name_rule("in")}, false));
  INFERD_RETURN_IF_ERROR(expect(name_rule("in")).status());
  INFERD_ASSIGN_OR_RETURN(node->iter,
                          parse_tuple(false, false, {name_rule("recursive")}, false, false));
  if (skip_if_name("if")) {
    INFERD_ASSIGN_OR_RETURN(node->filter, parse_expression(true));
  }
  node->recursive = skip_if_name("recursive");
  {
    LoopScope scope(*this, loop_depth_ + 1);
    INFERD_ASSIGN_OR_RETURN(node->body,
                            parse_statements({name_rule("endfor"), name_rule("else")}, false));
  }
  if (advance().text != "endfor") {
    LoopScope scope(*this, loop_depth_);
    INFERD_ASSIGN_OR_RETURN(node->otherwise, parse_statements({name_rule("endfor")}, true));
  }
  return StmtPtr(std::move(node));
}

Result<StmtPtr> Parser::parse_if() {
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

Result<StmtPtr> Parser::parse_set() {
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

Status Parser::parse_signature(MacroSignature& sig) {
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

Result<StmtPtr> Parser::parse_macro() {
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
Status Parser::check_explicit_caller(const MacroSignature& sig, uint32_t offset) const {
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

Result<StmtPtr> Parser::parse_call_block() {
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

Result<StmtPtr> Parser::parse_filter_block() {
  auto node = std::make_unique<FilterBlockStmt>(advance().offset);
  INFERD_ASSIGN_OR_RETURN(node->filter, parse_filter(nullptr, true));
  LoopScope scope(*this, loop_depth_);
  INFERD_ASSIGN_OR_RETURN(node->body, parse_statements({name_rule("endfilter")}, true));
  return StmtPtr(std::move(node));
}

Result<StmtPtr> Parser::parse_with() {
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

Result<StmtPtr> Parser::parse_print() {
  auto node = std::make_unique<OutputStmt>(advance().offset);
  while (cur().type != TokenType::kBlockEnd) {
    if (!node->pieces.empty()) INFERD_RETURN_IF_ERROR(expect_type(TokenType::kComma));
    INFERD_ASSIGN_OR_RETURN(ExprPtr e, parse_expression(true));
    node->pieces.push_back({std::string(), std::move(e)});
  }
  return StmtPtr(std::move(node));
}

Result<StmtPtr> Parser::parse_generation() {
  auto node = std::make_unique<ScopeStmt>(advance().offset);
  LoopScope scope(*this, 0);
  INFERD_ASSIGN_OR_RETURN(node->body, parse_statements({name_rule("endgeneration")}, true));
  return StmtPtr(std::move(node));
}

}  // namespace parser_detail

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
  parser_detail::Parser parser(std::move(tokens), map, limits);
  INFERD_ASSIGN_OR_RETURN(ast.body, parser.parse());
  INFERD_RETURN_IF_ERROR(check_filter_and_test_names(ast.body, map));
  return ast;
}

}  // namespace inferd::chat::jinja

// Read-only traversal of a template syntax tree, and the checks built on it.
#pragma once

#include "base/status.h"
#include "chat/jinja/ast.h"
#include "chat/jinja/source_map.h"

namespace inferd::chat::jinja {

// Visits statements and expressions depth-first. `soft` is true inside {% if %} tests and
// bodies and conditional expressions of the current scope, where jinja2 defers unknown
// filter/test errors to run time.
class AstVisitor {
 public:
  virtual ~AstVisitor() = default;
  // Returns false to skip the statement's children.
  virtual bool visit_stmt(const Stmt& stmt, bool soft) { return true; }
  virtual void visit_expr(const Expr& expr, bool soft) {}
};

void walk(const Body& body, AstVisitor& visitor, bool soft = false);
void walk_expr(const Expr* expr, AstVisitor& visitor, bool soft);

// Records whether a macro (or call block) body refers to caller, varargs or kwargs.
void mark_special_names(const Body& body, MacroSignature& sig);

// "No filter named 'x'." / "No test named 'x'." for unknown names outside soft contexts.
Status check_filter_and_test_names(const Body& body, const SourceMap& map);

}  // namespace inferd::chat::jinja

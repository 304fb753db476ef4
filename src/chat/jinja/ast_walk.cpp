#include "chat/jinja/ast_walk.h"

#include "chat/jinja/filters.h"
#include "chat/jinja/tests.h"

namespace inferd::chat::jinja {
namespace {

void walk_args(const CallArgsExpr& a, AstVisitor& v, bool soft) {
  for (const auto& e : a.args) walk_expr(e.get(), v, soft);
  for (const auto& kv : a.kwargs) walk_expr(kv.second.get(), v, soft);
  walk_expr(a.dyn_args.get(), v, soft);
  walk_expr(a.dyn_kwargs.get(), v, soft);
}

void walk_signature(const MacroSignature& sig, AstVisitor& v) {
  for (const auto& d : sig.defaults) walk_expr(d.get(), v, false);
}

}  // namespace

void walk_expr(const Expr* e, AstVisitor& v, bool soft) {
  if (e == nullptr) return;
  v.visit_expr(*e, soft);
  switch (e->kind) {
    case ExprKind::kList:
    case ExprKind::kTuple:
      for (const auto& i : static_cast<const SeqExpr*>(e)->items) walk_expr(i.get(), v, soft);
      break;
    case ExprKind::kDict:
      for (const auto& kv : static_cast<const DictExpr*>(e)->items) {
        walk_expr(kv.first.get(), v, soft);
        walk_expr(kv.second.get(), v, soft);
      }
      break;
    case ExprKind::kGetattr:
      walk_expr(static_cast<const GetattrExpr*>(e)->object.get(), v, soft);
      break;
    case ExprKind::kGetitem: {
      const auto* g = static_cast<const GetitemExpr*>(e);
      walk_expr(g->object.get(), v, soft);
      walk_expr(g->key.get(), v, soft);
      break;
    }
    case ExprKind::kSlice: {
      const auto* s = static_cast<const SliceExpr*>(e);
      walk_expr(s->start.get(), v, soft);
      walk_expr(s->stop.get(), v, soft);
      walk_expr(s->step.get(), v, soft);
      break;
    }
    case ExprKind::kCall: {
      const auto* c = static_cast<const CallExpr*>(e);
      walk_expr(c->callee.get(), v, soft);
      walk_args(c->args, v, soft);
      break;
    }
    case ExprKind::kFilter: {
      const auto* f = static_cast<const FilterExpr*>(e);
      walk_expr(f->input.get(), v, soft);
      walk_args(f->args, v, soft);
      break;
    }
    case ExprKind::kTest: {
      const auto* t = static_cast<const TestExpr*>(e);
      walk_expr(t->input.get(), v, soft);
      walk_args(t->args, v, soft);
      break;
    }
    case ExprKind::kUnary:
      walk_expr(static_cast<const UnaryExpr*>(e)->operand.get(), v, soft);
      break;
    case ExprKind::kNot: walk_expr(static_cast<const NotExpr*>(e)->operand.get(), v, soft); break;
    case ExprKind::kBinary: {
      const auto* b = static_cast<const BinaryExpr*>(e);
      walk_expr(b->left.get(), v, soft);
      walk_expr(b->right.get(), v, soft);
      break;
    }
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      const auto* l = static_cast<const LogicalExpr*>(e);
      walk_expr(l->left.get(), v, soft);
      walk_expr(l->right.get(), v, soft);
      break;
    }
    case ExprKind::kConcat:
      for (const auto& p : static_cast<const ConcatExpr*>(e)->parts) walk_expr(p.get(), v, soft);
      break;
    case ExprKind::kCompare: {
      const auto* c = static_cast<const CompareExpr*>(e);
      walk_expr(c->first.get(), v, soft);
      for (const auto& op : c->ops) walk_expr(op.second.get(), v, soft);
      break;
    }
    case ExprKind::kCondExpr: {
      const auto* c = static_cast<const CondExpr*>(e);
      walk_expr(c->test.get(), v, true);
      walk_expr(c->then.get(), v, true);
      walk_expr(c->otherwise.get(), v, true);
      break;
    }
    default: break;
  }
}

void walk(const Body& body, AstVisitor& v, bool soft) {
  for (const auto& s : body) {
    if (!v.visit_stmt(*s, soft)) continue;
    switch (s->kind) {
      case StmtKind::kOutput:
        for (const auto& p : static_cast<const OutputStmt*>(s.get())->pieces) {
          walk_expr(p.expr.get(), v, soft);
        }
        break;
      case StmtKind::kIf: {
        const auto* n = static_cast<const IfStmt*>(s.get());
        for (const auto& br : n->branches) {
          walk_expr(br.first.get(), v, true);
          walk(br.second, v, true);
        }
        walk(n->otherwise, v, true);
        break;
      }
      case StmtKind::kFor: {
        const auto* n = static_cast<const ForStmt*>(s.get());
        walk_expr(n->target.get(), v, soft);
        walk_expr(n->iter.get(), v, soft);
        walk_expr(n->filter.get(), v, false);
        walk(n->body, v, false);
        walk(n->otherwise, v, false);
        break;
      }
      case StmtKind::kSet: {
        const auto* n = static_cast<const SetStmt*>(s.get());
        walk_expr(n->target.get(), v, soft);
        walk_expr(n->value.get(), v, soft);
        break;
      }
      case StmtKind::kSetBlock: {
        const auto* n = static_cast<const SetBlockStmt*>(s.get());
        walk_expr(n->target.get(), v, soft);
        walk_expr(n->filter.get(), v, false);
        walk(n->body, v, false);
        break;
      }
      case StmtKind::kMacro: {
        const auto* n = static_cast<const MacroStmt*>(s.get());
        walk_signature(n->signature, v);
        walk(n->body, v, false);
        break;
      }
      case StmtKind::kCallBlock: {
        const auto* n = static_cast<const CallBlockStmt*>(s.get());
        walk_expr(n->call.get(), v, false);
        walk_signature(n->signature, v);
        walk(n->body, v, false);
        break;
      }
      case StmtKind::kFilterBlock: {
        const auto* n = static_cast<const FilterBlockStmt*>(s.get());
        walk_expr(n->filter.get(), v, false);
        walk(n->body, v, false);
        break;
      }
      case StmtKind::kWith: {
        const auto* n = static_cast<const WithStmt*>(s.get());
        for (const auto& a : n->assignments) {
          walk_expr(a.first.get(), v, false);
          walk_expr(a.second.get(), v, soft);
        }
        walk(n->body, v, false);
        break;
      }
      case StmtKind::kScope: walk(static_cast<const ScopeStmt*>(s.get())->body, v, false); break;
      case StmtKind::kBreak:
      case StmtKind::kContinue: break;
    }
  }
}

void mark_special_names(const Body& body, MacroSignature& sig) {
  class Marker : public AstVisitor {
   public:
    explicit Marker(MacroSignature& s) : sig_(s) {}
    void visit_expr(const Expr& e, bool) override {
      if (e.kind != ExprKind::kName) return;
      const std::string& n = static_cast<const NameExpr&>(e).name;
      if (n == "caller") sig_.uses_caller = true;
      if (n == "varargs") sig_.uses_varargs = true;
      if (n == "kwargs") sig_.uses_kwargs = true;
    }

   private:
    MacroSignature& sig_;
  };
  Marker marker(sig);
  walk(body, marker);
}

Status check_filter_and_test_names(const Body& body, const SourceMap& map) {
  class Checker : public AstVisitor {
   public:
    explicit Checker(const SourceMap& m) : map_(m) {}
    void visit_expr(const Expr& e, bool soft) override {
      if (!status.ok() || soft) return;
      if (e.kind == ExprKind::kFilter) {
        const auto& f = static_cast<const FilterExpr&>(e);
        if (!is_known_filter(f.name)) {
          status = syntax_error(map_, f.offset, fmt::format("No filter named '{}'.", f.name));
        }
      } else if (e.kind == ExprKind::kTest) {
        const auto& t = static_cast<const TestExpr&>(e);
        if (!is_known_test(t.name)) {
          status = syntax_error(map_, t.offset, fmt::format("No test named '{}'.", t.name));
        }
      }
    }
    Status status;

   private:
    const SourceMap& map_;
  };
  Checker checker(map);
  walk(body, checker);
  return checker.status;
}

}  // namespace inferd::chat::jinja

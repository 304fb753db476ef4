// The syntax tree of a parsed template: expressions and statements, mirroring jinja2's nodes.
// Nodes are immutable after parsing and owned by their parent through unique_ptr.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/py_ops.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

enum class ExprKind : uint8_t {
  kConst,
  kName,
  kList,
  kTuple,
  kDict,
  kGetattr,
  kGetitem,
  kSlice,
  kCall,
  kFilter,
  kTest,
  kUnary,
  kBinary,
  kAnd,
  kOr,
  kNot,
  kConcat,
  kCompare,
  kCondExpr,
  kNsRef,  // `ns.attr` as an assignment target
};

struct Expr {
  Expr(ExprKind k, uint32_t off) : kind(k), offset(off) {}
  virtual ~Expr() = default;
  ExprKind kind;
  uint32_t offset;  // source position, for error messages
};
using ExprPtr = std::unique_ptr<Expr>;

struct ConstExpr : Expr {
  ConstExpr(uint32_t off, Value v) : Expr(ExprKind::kConst, off), value(std::move(v)) {}
  Value value;
};

struct NameExpr : Expr {
  NameExpr(uint32_t off, std::string n) : Expr(ExprKind::kName, off), name(std::move(n)) {}
  std::string name;
};

// List or tuple literal (also tuple assignment targets).
struct SeqExpr : Expr {
  SeqExpr(ExprKind k, uint32_t off) : Expr(k, off) {}
  std::vector<ExprPtr> items;
};

struct DictExpr : Expr {
  explicit DictExpr(uint32_t off) : Expr(ExprKind::kDict, off) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

struct GetattrExpr : Expr {
  GetattrExpr(uint32_t off, ExprPtr o, std::string a)
      : Expr(ExprKind::kGetattr, off), object(std::move(o)), attr(std::move(a)) {}
  ExprPtr object;
  std::string attr;
};

struct GetitemExpr : Expr {
  GetitemExpr(uint32_t off, ExprPtr o, ExprPtr k)
      : Expr(ExprKind::kGetitem, off), object(std::move(o)), key(std::move(k)) {}
  ExprPtr object;
  ExprPtr key;  // may be a SliceExpr
};

struct SliceExpr : Expr {
  explicit SliceExpr(uint32_t off) : Expr(ExprKind::kSlice, off) {}
  ExprPtr start, stop, step;  // each may be null
};

// Arguments of a call, filter or test.
struct CallArgsExpr {
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr dyn_args;    // *args
  ExprPtr dyn_kwargs;  // **kwargs
};

struct CallExpr : Expr {
  CallExpr(uint32_t off, ExprPtr c) : Expr(ExprKind::kCall, off), callee(std::move(c)) {}
  ExprPtr callee;
  CallArgsExpr args;
};

// `input | name(args)`; input is null for {% filter %} blocks (the body is the input).
struct FilterExpr : Expr {
  FilterExpr(uint32_t off, ExprPtr in, std::string n)
      : Expr(ExprKind::kFilter, off), input(std::move(in)), name(std::move(n)) {}
  ExprPtr input;
  std::string name;
  CallArgsExpr args;
};

struct TestExpr : Expr {
  TestExpr(uint32_t off, ExprPtr in, std::string n)
      : Expr(ExprKind::kTest, off), input(std::move(in)), name(std::move(n)) {}
  ExprPtr input;
  std::string name;
  CallArgsExpr args;
};

struct UnaryExpr : Expr {
  UnaryExpr(uint32_t off, bool neg, ExprPtr o)
      : Expr(ExprKind::kUnary, off), negate(neg), operand(std::move(o)) {}
  bool negate;  // '-' when true, '+' otherwise
  ExprPtr operand;
};

struct NotExpr : Expr {
  NotExpr(uint32_t off, ExprPtr o) : Expr(ExprKind::kNot, off), operand(std::move(o)) {}
  ExprPtr operand;
};

struct BinaryExpr : Expr {
  BinaryExpr(uint32_t off, BinaryOp o, ExprPtr l, ExprPtr r)
      : Expr(ExprKind::kBinary, off), op(o), left(std::move(l)), right(std::move(r)) {}
  BinaryOp op;
  ExprPtr left, right;
};

// `and` / `or` (short-circuit, value of the deciding operand).
struct LogicalExpr : Expr {
  LogicalExpr(ExprKind k, uint32_t off, ExprPtr l, ExprPtr r)
      : Expr(k, off), left(std::move(l)), right(std::move(r)) {}
  ExprPtr left, right;
};

struct ConcatExpr : Expr {
  explicit ConcatExpr(uint32_t off) : Expr(ExprKind::kConcat, off) {}
  std::vector<ExprPtr> parts;
};

enum class CompareKind : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct CompareExpr : Expr {
  CompareExpr(uint32_t off, ExprPtr f) : Expr(ExprKind::kCompare, off), first(std::move(f)) {}
  ExprPtr first;
  std::vector<std::pair<CompareKind, ExprPtr>> ops;
};

struct CondExpr : Expr {
  CondExpr(uint32_t off, ExprPtr t, ExprPtr a, ExprPtr b)
      : Expr(ExprKind::kCondExpr, off),
        test(std::move(t)),
        then(std::move(a)),
        otherwise(std::move(b)) {}
  ExprPtr test, then;
  ExprPtr otherwise;  // may be null: yields undefined
};

struct NsRefExpr : Expr {
  NsRefExpr(uint32_t off, std::string n, std::string a)
      : Expr(ExprKind::kNsRef, off), name(std::move(n)), attr(std::move(a)) {}
  std::string name;
  std::string attr;
};

enum class StmtKind : uint8_t {
  kOutput,
  kIf,
  kFor,
  kSet,
  kSetBlock,
  kMacro,
  kCallBlock,
  kFilterBlock,
  kWith,
  kScope,  // a body rendered in its own scope ({% generation %})
  kBreak,
  kContinue,
};

struct Stmt {
  Stmt(StmtKind k, uint32_t off) : kind(k), offset(off) {}
  virtual ~Stmt() = default;
  StmtKind kind;
  uint32_t offset;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

// Template text and {{ expressions }} in source order. A null expression with `text` set is
// literal template data.
struct OutputStmt : Stmt {
  explicit OutputStmt(uint32_t off) : Stmt(StmtKind::kOutput, off) {}
  struct Piece {
    std::string text;
    ExprPtr expr;
  };
  std::vector<Piece> pieces;
};

struct IfStmt : Stmt {
  explicit IfStmt(uint32_t off) : Stmt(StmtKind::kIf, off) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if and elifs
  Body otherwise;
};

struct ForStmt : Stmt {
  explicit ForStmt(uint32_t off) : Stmt(StmtKind::kFor, off) {}
  ExprPtr target;
  ExprPtr iter;
  ExprPtr filter;  // `for x in y if cond`, may be null
  bool recursive = false;
  Body body;
  Body otherwise;
};

struct SetStmt : Stmt {
  explicit SetStmt(uint32_t off) : Stmt(StmtKind::kSet, off) {}
  ExprPtr target;
  ExprPtr value;
};

struct SetBlockStmt : Stmt {
  explicit SetBlockStmt(uint32_t off) : Stmt(StmtKind::kSetBlock, off) {}
  ExprPtr target;
  ExprPtr filter;  // FilterExpr chain with a null innermost input, may be null
  Body body;
};

// Macro signatures are shared by {% macro %} and {% call %}.
struct MacroSignature {
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() params
  bool uses_caller = false;
  bool uses_varargs = false;
  bool uses_kwargs = false;
};

struct MacroStmt : Stmt {
  explicit MacroStmt(uint32_t off) : Stmt(StmtKind::kMacro, off) {}
  std::string name;
  MacroSignature signature;
  Body body;
};

struct CallBlockStmt : Stmt {
  explicit CallBlockStmt(uint32_t off) : Stmt(StmtKind::kCallBlock, off) {}
  ExprPtr call;  // a CallExpr
  MacroSignature signature;
  Body body;
};

struct FilterBlockStmt : Stmt {
  explicit FilterBlockStmt(uint32_t off) : Stmt(StmtKind::kFilterBlock, off) {}
  ExprPtr filter;  // FilterExpr chain with a null innermost input
  Body body;
};

struct WithStmt : Stmt {
  explicit WithStmt(uint32_t off) : Stmt(StmtKind::kWith, off) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> assignments;
  Body body;
};

struct ScopeStmt : Stmt {
  explicit ScopeStmt(uint32_t off) : Stmt(StmtKind::kScope, off) {}
  Body body;
};

// A parsed template: its normalised source (for error positions) and statements.
struct TemplateAst {
  std::string source;
  Body body;
};

}  // namespace inferd::chat::jinja

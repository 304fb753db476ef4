// Template: a parsed Jinja template, rendered the way Hugging Face renders chat templates
// (jinja2's ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loop controls, the
// {% generation %} tag, raise_exception, strftime_now and transformers' tojson).
//
// A Template is immutable and cheap to copy; render() may run concurrently from several
// threads. Every failure (syntax, runtime, raise_exception, resource limits) is a Status.
//
// Known differences from jinja2 (all outside what chat templates use):
//  - integers are 64-bit; overflow is an error where Python would grow the integer;
//  - generators (map, select, ...) are computed when the filter runs, so an error inside one
//    surfaces there rather than when it is consumed;
//  - no template loading: {% include %}, {% import %}, {% extends %} and {% block %} are errors;
//  - filters groupby, striptags, urlencode, urlize, wordwrap, xmlattr, pprint and random are
//    not provided ("No filter named ..."); lipsum() is deterministic;
//  - jinja2 folds constant {{ }} expressions at compile time with item-access semantics, so
//    `{{ [1][1.5:] }}` prints "" there but fails here (as the same expression on a variable
//    fails in jinja2);
//  - the reprs of functions, generators and iterators name no memory address; `\N{...}` string
//    escapes are not supported; `is sameas` approximates CPython object identity.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"
#include "chat/jinja/limits.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

struct TemplateOptions {
  LexerOptions lexer;  // trim_blocks and lstrip_blocks on by default, as Hugging Face sets them
  ParseLimits limits;
};

struct RenderOptions {
  Limits limits;
  // The time strftime_now() formats (local time); the current time when absent.
  std::optional<std::time_t> now;
};

class Template {
 public:
  static Result<Template> parse(std::string_view source, const TemplateOptions& options = {});

  // Renders with the given top-level variables.
  Result<std::string> render(std::vector<std::pair<std::string, Value>> variables,
                             const RenderOptions& options = {}) const;
  // Renders with the members of a JSON object as variables (key order preserved).
  Result<std::string> render_json(const nlohmann::ordered_json& variables,
                                  const RenderOptions& options = {}) const;

  const TemplateAst& ast() const { return *ast_; }

 private:
  explicit Template(std::shared_ptr<const TemplateAst> ast) : ast_(std::move(ast)) {}
  std::shared_ptr<const TemplateAst> ast_;
};

}  // namespace inferd::chat::jinja

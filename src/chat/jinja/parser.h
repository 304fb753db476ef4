// Parser: turns the token stream into a TemplateAst with jinja2's grammar and precedence
// (Hugging Face's environment: loop controls and the {% generation %} tag enabled).
#pragma once

#include <string_view>

#include "base/status.h"
#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"
#include "chat/jinja/limits.h"

namespace inferd::chat::jinja {

// Parses a template. Syntax errors name the line and column. Unknown filters and tests are
// errors unless they appear under an {% if %} or conditional expression (then they fail only
// when evaluated), as in jinja2.
Result<TemplateAst> parse_template(std::string_view source, const LexerOptions& lexer_options,
                                   const ParseLimits& limits);

}  // namespace inferd::chat::jinja

// Lexer: splits a template into data and tag tokens with jinja2's rules, including whitespace
// control ("-" and "+" on tags), trim_blocks, lstrip_blocks, raw blocks and comments.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chat/jinja/source_map.h"

namespace inferd::chat::jinja {

enum class TokenType : uint8_t {
  kData,
  kVariableBegin,
  kVariableEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,
  kInteger,
  kFloat,
  // Operators.
  kAdd,
  kSub,
  kDiv,
  kFloorDiv,
  kMul,
  kMod,
  kPow,
  kTilde,
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kEq,
  kNe,
  kGt,
  kGe,
  kLt,
  kLe,
  kAssign,
  kDot,
  kColon,
  kPipe,
  kComma,
  kSemicolon,
  kEof,
};

// How jinja2 names a token type in "expected ..." messages.
std::string_view describe_token_type(TokenType type);

struct Token {
  TokenType type = TokenType::kEof;
  uint32_t offset = 0;  // byte offset in the normalised source
  std::string text;     // data, name or (unescaped) string value
  int64_t int_value = 0;
  double float_value = 0.0;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Normalises newlines ("\r\n" and "\r" become "\n") and drops one trailing newline unless
// keep_trailing_newline, as jinja2 does before lexing.
std::string normalize_source(std::string_view source, bool keep_trailing_newline);

// Tokenizes a normalised source. The token list always ends with kEof.
// REQUIRES: `source` is the output of normalize_source and `map` was built from it.
Result<std::vector<Token>> tokenize(std::string_view source, const SourceMap& map,
                                    const LexerOptions& options);

}  // namespace inferd::chat::jinja

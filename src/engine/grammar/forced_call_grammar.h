// The grammar of a forced tool call (tool_choice "required" or a named function): exactly one
// call of one of the tools, written as a chat output format writes a forced call
// (chat::forced_call_text): the text before the arguments, a JSON object valid against the tool's
// parameters schema, the text after. Texts of the vocabulary's control tokens inside those pieces
// (e.g. [TOOL_CALLS]) become token elements, since the model writes them as one control token.
#pragma once

#include <span>
#include <string_view>

#include "base/status.h"
#include "engine/grammar/grammar.h"
#include "engine/grammar/grammar_vocab.h"
#include "inferd/structured_output.h"

namespace inferd::engine {

// Errors (kInvalidArgument): no tools, an empty or repeated name, parameters that are not an
// object schema, a schema the JSON Schema compiler refuses (the message names the tool).
Result<Grammar> forced_call_grammar(const GrammarVocab& vocab, chat::OutputFormat format,
                                    std::span<const ToolSchema> tools);

// `text` as a sequence of literals and token elements for the texts of control tokens (not
// end-of-generation ones) that occur in it, the longest at each position.
ExprId text_with_control_tokens(Grammar& g, const GrammarVocab& vocab, std::string_view text);

}  // namespace inferd::engine

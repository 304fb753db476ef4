// The prompt of a chat request: the conversation rendered by the model's chat template, and its
// tokens.
#pragma once

#include <string>
#include <vector>

#include "server/api/openai/chat_request.h"
#include "server/served_model.h"

namespace inferd::server::openai {

struct ChatPrompt {
  std::string text;  // the rendered template (for format detection)
  std::vector<TokenId> tokens;
};

// Special-token texts in the rendered prompt are parsed; BOS is added when the vocabulary wants
// it and the template did not write it. `with_tools`: the request's tools go to the template.
// Errors (the template rejected the messages) name the field "messages".
Result<ChatPrompt> chat_prompt(const ServedModel& m, const ChatRequest& r, bool with_tools);

}  // namespace inferd::server::openai

// POST /v1/completions and POST /v1/embeddings: requests, parsed and validated. Both accept
// their input as a string, an array of strings, an array of token ids, or an array of arrays of
// token ids.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "inferd/engine.h"
#include "inferd/token_id.h"
#include "server/api/json_body.h"
#include "server/api/openai/generation_fields.h"

namespace inferd::server::openai {

// One prompt: text to tokenize, or token ids as given.
using PromptInput = std::variant<std::string, std::vector<TokenId>>;

struct CompletionRequest {
  GenerationFields gen;
  std::vector<PromptInput> prompts;
  bool echo = false;
  int logprobs = -1;  // -1 = off; otherwise the number of alternatives per token (0..20)
};

struct EmbeddingRequest {
  std::string model;
  std::vector<PromptInput> inputs;
  bool base64 = false;     // encoding_format "base64"
  int64_t dimensions = 0;  // 0 = the model's; otherwise it must be the model's
};

constexpr size_t kMaxPrompts = 256;

Result<CompletionRequest> parse_completion_request(const Json& body);

// The tokens of one prompt: token ids as given (checked against the vocabulary) or the text
// tokenized with BOS. `field` ("prompt", "input") names it in errors; an empty prompt is one.
Result<std::vector<TokenId>> prompt_tokens(const Model& model, const PromptInput& input, const char* field);
Result<EmbeddingRequest> parse_embedding_request(const Json& body);

}  // namespace inferd::server::openai

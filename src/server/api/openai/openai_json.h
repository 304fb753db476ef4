// JSON pieces shared by the OpenAI response shapes: identifiers, usage, log-probabilities.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "inferd/engine.h"
#include "inferd/engine_loop.h"
#include "inferd/token_logprobs.h"
#include "server/api/json_body.h"

namespace inferd::server::openai {

// "chatcmpl-" + 24 random characters, "cmpl-" ..., "call_" ...
std::string make_id(std::string_view prefix);
int64_t unix_now();
// Identifies the build and backend, as OpenAI's system_fingerprint does.
const std::string& system_fingerprint();

// {"id","object","created","model","system_fingerprint","choices"}: the envelope of every
// response and stream chunk of the completion endpoints.
Json response_object(const std::string& id, const char* object, int64_t created, const std::string& model,
                     Json choices);

// {"prompt_tokens","completion_tokens","total_tokens","prompt_tokens_details":{"cached_tokens"}}
Json usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens);

// finish_reason for a finished generation: "stop", "length", or "tool_calls" when asked.
const char* finish_reason_text(FinishReason reason, bool tool_calls);

// Chat log-probabilities of one token: {"token","logprob","bytes","top_logprobs":[...]}.
Json chat_logprob_json(const Model& model, const TokenLogprobs& lp);

// Characters (code points, as OpenAI counts text_offset) of UTF-8 text.
int64_t utf8_length(std::string_view text);

// Completions log-probabilities: {"tokens","token_logprobs","top_logprobs","text_offset"} for a
// run of tokens.
struct CompletionLogprobs {
  Json tokens = Json::array(), token_logprobs = Json::array(), top_logprobs = Json::array(),
       text_offset = Json::array();
  // `lp` null: the token has no log-probability (the first prompt token); `offset`: where the
  // token's text starts in the choice's text, in characters.
  void add(const Model& model, TokenId token, const TokenLogprobs* lp, int64_t offset);
  Json to_json() const;
};

// A float for JSON: -inf (no finite log-probability) is written as the most negative float.
double json_logprob(float v);

}  // namespace inferd::server::openai

#include "server/api/openai/openai_json.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include "base/cpu_features.h"

namespace inferd::server::openai {

std::string make_id(std::string_view prefix) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::string id(prefix);
  for (int i = 0; i < 24; ++i) id += kChars[rng() % (sizeof(kChars) - 1)];
  return id;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

const std::string& system_fingerprint() {
  static const std::string fp = std::string("inferd-0.1.0-") + isa_level_name(cpu_features().level);
  return fp;
}

Json response_object(const std::string& id, const char* object, int64_t created, const std::string& model,
                     Json choices) {
  Json j;
  j["id"] = id;
  j["object"] = object;
  j["created"] = created;
  j["model"] = model;
  j["system_fingerprint"] = system_fingerprint();
  j["choices"] = std::move(choices);
  return j;
}

Json usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens) {
  Json u;
  u["prompt_tokens"] = prompt_tokens;
  u["completion_tokens"] = completion_tokens;
  u["total_tokens"] = prompt_tokens + completion_tokens;
  u["prompt_tokens_details"] = {{"cached_tokens", cached_tokens}};
  return u;
}

const char* finish_reason_text(FinishReason reason, bool tool_calls) {
  if (tool_calls) return "tool_calls";
  return reason == FinishReason::kLength ? "length" : "stop";
}

double json_logprob(float v) {
  return std::isfinite(v) ? static_cast<double>(v) : -std::numeric_limits<float>::max();
}

namespace {

Json bytes_of(const std::string& s) {
  Json b = Json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

}  // namespace

Json chat_logprob_json(const Model& model, const TokenLogprobs& lp) {
  auto entry = [&](const TokenLogprob& t) {
    const std::string piece = model.token_to_piece(t.id, true);
    Json e;
    e["token"] = piece;
    e["logprob"] = json_logprob(t.logprob);
    e["bytes"] = bytes_of(piece);
    return e;
  };
  Json j = entry(lp.chosen);
  j["top_logprobs"] = Json::array();
  for (const auto& t : lp.top_span()) j["top_logprobs"].push_back(entry(t));
  return j;
}

int64_t utf8_length(std::string_view text) {
  int64_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

void CompletionLogprobs::add(const Model& model, TokenId token, const TokenLogprobs* lp, int64_t offset) {
  tokens.push_back(model.token_to_piece(token, true));
  text_offset.push_back(offset);
  if (!lp) {
    token_logprobs.push_back(nullptr);
    top_logprobs.push_back(nullptr);
    return;
  }
  token_logprobs.push_back(json_logprob(lp->chosen.logprob));
  Json top = Json::object();
  for (const auto& t : lp->top_span()) top[model.token_to_piece(t.id, true)] = json_logprob(t.logprob);
  top_logprobs.push_back(std::move(top));
}

Json CompletionLogprobs::to_json() const {
  return {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top_logprobs},
          {"text_offset", text_offset}};
}

}  // namespace inferd::server::openai

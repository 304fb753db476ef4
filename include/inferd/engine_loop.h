// EngineLoop: serves generation requests for one model on its own thread (DESIGN.md section 3,
// "one engine loop per loaded model"). Every step evaluates one batch holding a decode token of
// each running request plus chunks of waiting prompts, under a token budget (continuous batching
// with chunked prefill), so a long prompt never stalls running streams.
//
// Thread safety: submit(), cancel() and stats() may be called from any thread. Sink callbacks
// run on the engine thread, in order per request, and must not block.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inferd/engine.h"
#include "inferd/sampling_params.h"
#include "inferd/token_constraint.h"
#include "inferd/token_logprobs.h"

namespace inferd {

struct EngineOptions {
  int max_slots = 4;              // requests decoded concurrently
  int64_t ctx_per_slot = 0;       // positions per request; 0 = the model's, at most 4096
  int64_t max_batch_tokens = 512; // tokens per step (decode tokens + prompt chunks)
  int num_threads = 0;            // 0 = one per core
  int max_waiting = 256;          // queued requests beyond the slots; more are refused
};

struct GenerationRequest {
  std::vector<TokenId> prompt;     // at least one token
  SamplingParams sampling;
  int64_t max_tokens = -1;         // -1 = until the context is full; 0 = prompt only (with echo)
  std::vector<std::string> stop;   // stop strings, excluded from the output
  bool ignore_eos = false;         // keep generating past end-of-generation tokens
  bool skip_special = true;        // special tokens produce no text
  // Report the log-probability of every prompt token after the first (OpenAI's echo), with this
  // many alternatives; -1 = off.
  int prompt_logprobs = -1;
  std::unique_ptr<TokenConstraint> constraint;  // optional
  // Instead of generating: the embedding of the prompt (mean of the final normalised hidden
  // states of its tokens, scaled to unit length), delivered through on_embedding().
  bool embedding = false;
};

enum class FinishReason { kStop, kLength, kCancelled, kError };
const char* finish_reason_name(FinishReason reason);  // "stop", "length", "cancelled", "error"

struct GenerationResult {
  FinishReason reason = FinishReason::kStop;
  Status error;                   // when reason == kError
  std::string tail_text;          // text released at the end (held back until then)
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  double queue_ms = 0, prefill_ms = 0, decode_ms = 0;
};

class GenerationSink {
 public:
  virtual ~GenerationSink() = default;
  // Echo: log-probabilities of prompt tokens 1..n-1 (each predicted from the tokens before it).
  virtual void on_prompt_logprobs(std::span<const TokenLogprobs> logprobs) {}
  // Embedding requests: the prompt's embedding (n_embd floats), before on_finish.
  virtual void on_embedding(std::span<const float> embedding) {}
  // One generated token and the text it releases (may be empty while text is held back for a
  // possible stop string or an unfinished UTF-8 character). `logprobs` is null unless asked for.
  virtual void on_token(TokenId token, std::string_view text, const TokenLogprobs* logprobs) = 0;
  // The last callback of every request, exactly once.
  virtual void on_finish(const GenerationResult& result) = 0;
};

struct EngineStats {
  int running = 0;
  int waiting = 0;
  int64_t completed = 0;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
};

class EngineLoop {
 public:
  static Result<std::unique_ptr<EngineLoop>> create(std::shared_ptr<const Model> model,
                                                    const EngineOptions& options = {});
  // Cancels every request (their sinks get on_finish) and joins the thread.
  ~EngineLoop();
  EngineLoop(const EngineLoop&) = delete;
  EngineLoop& operator=(const EngineLoop&) = delete;

  // Queues a request and returns its id. Errors (nothing is queued): invalid sampling
  // parameters or prompt, a prompt that does not fit the context (the message gives the
  // numbers), a full queue (resource exhausted), a stopped loop.
  Result<uint64_t> submit(GenerationRequest request, std::shared_ptr<GenerationSink> sink);
  // Finishes the request with FinishReason::kCancelled as soon as possible (no-op when done).
  void cancel(uint64_t id);

  EngineStats stats() const;
  const Model& model() const;
  int64_t ctx_per_slot() const;

 private:
  struct Impl;
  explicit EngineLoop(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd

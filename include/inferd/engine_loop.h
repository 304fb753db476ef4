// EngineLoop: serves generation requests for one model on its own thread (DESIGN.md section 3,
// "one engine loop per loaded model"). Every step evaluates one batch holding a decode token of
// each running request plus chunks of waiting prompts, under a token budget (continuous batching
// with chunked prefill), so a long prompt never stalls running streams.
//
// KV memory is one pool of blocks (kv_block_size positions each) sized by kv_budget_bytes, not
// reserved per slot: a request takes blocks as it grows. Full blocks are shared by later
// requests with the same token prefix (reported as cached_tokens). When blocks run out, the
// lowest-priority, most recently submitted running request is preempted: its blocks are freed
// and it is recomputed later, its output stream continuing where it stopped.
//
// Thread safety: submit(), cancel() and stats() may be called from any thread. Sink callbacks
// run on the engine thread, in order per request, and must not block.
#pragma once

#include <cstdint>
#include <functional>
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
  // KV memory for all requests together; 0 = max_slots full contexts. At least one full
  // context (ctx_per_slot positions) must fit.
  int64_t kv_budget_bytes = 0;
  // Positions per KV block: the unit of allocation and of prefix sharing. 16 keeps the memory a
  // request wastes in its last block small (7.5 positions on average) and shares prefixes at a
  // fine grain, while block tables stay short (256 entries for 4096 positions).
  int64_t kv_block_size = 16;
  KvCacheType kv_type = KvCacheType::kF16;
  // Saving prefixes when idle (off while kv_persist_dir is empty): sequences of at least
  // kv_persist_min_tokens that finished normally are remembered (a later turn of the same
  // conversation replaces the earlier one); after kv_persist_idle_s seconds without work their
  // cached blocks are saved as kv_persist_dir/auto-<hash>.kv (restore_prefix loads them back),
  // keeping at most kv_persist_max_files such files.
  std::string kv_persist_dir = {};
  double kv_persist_idle_s = 30.0;
  int64_t kv_persist_min_tokens = 128;
  int kv_persist_max_files = 64;
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
  int priority = 0;  // higher is admitted first and preempted last
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
  int64_t cached_tokens = 0;       // prompt tokens taken from the prefix cache
  int64_t preemptions = 0;
  // KV blocks: free + cached + used == total.
  int64_t kv_blocks_total = 0, kv_blocks_used = 0, kv_blocks_cached = 0;
  int64_t kv_block_size = 0;
  int64_t prefix_queries = 0, prefix_hits = 0;  // block lookups in the prefix cache
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
  KvCacheType kv_type() const;

  // KV persistence (file format: src/kv/kv_file.h). Both run on the engine thread between
  // steps and report through `done` there (which must not block).
  //
  // save_prefix writes the keys and values of the longest prefix of `tokens` whose whole blocks
  // are in the prefix cache (evaluate the tokens first, e.g. with a max_tokens 0 request) and
  // reports how many tokens it wrote (0 when none were cached; then no file is written).
  void save_prefix(std::vector<TokenId> tokens, std::string path, std::function<void(Result<int64_t>)> done);
  // restore_prefix adds a saved prefix's blocks to the prefix cache (as if just computed) and
  // reports its tokens. Errors: a missing, corrupt or truncated file, or one saved from another
  // model or cache layout.
  void restore_prefix(std::string path, std::function<void(Result<int64_t>)> done);

 private:
  struct Impl;
  explicit EngineLoop(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd

#include "inferd/engine_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <utility>

#include "engine/stop_matcher.h"
#include "inferd/sampler.h"
#include "inferd/text_stream.h"

namespace inferd {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "error";
}

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Prompt chunks of echo requests are kept small: they need logits for every token.
constexpr int64_t kEchoChunkTokens = 64;

struct Pending {
  uint64_t id;
  GenerationRequest request;
  std::shared_ptr<GenerationSink> sink;
  Sampler sampler;
  Clock::time_point queued_at;
};

// A request being evaluated. Invariant: kv_len tokens of the sequence are in the KV cache; in
// the prefill phase prompt[kv_len..] remain, in the decode phase `next` is the sampled token
// that has not been evaluated yet.
struct Slot {
  explicit Slot(Pending p, const Model& model)
      : id(p.id),
        request(std::move(p.request)),
        sink(std::move(p.sink)),
        sampler(std::move(p.sampler)),
        stream(model, request.skip_special, /*at_sequence_start=*/false),
        stop(request.stop),
        queued_at(p.queued_at) {}

  uint64_t id;
  GenerationRequest request;
  std::shared_ptr<GenerationSink> sink;
  Sampler sampler;
  TextStream stream;
  engine::StopMatcher stop;
  Clock::time_point queued_at, started_at, first_token_at;
  int64_t kv_len = 0;
  bool decoding = false;
  TokenId next = 0;
  int64_t generated = 0;
  std::vector<TokenLogprobs> prompt_logprobs;
  // Where this step's batch holds the slot's tokens with logits.
  int64_t first_output = -1;
  int64_t num_outputs = 0;
  int64_t chunk_begin = 0;  // prompt index of the first token evaluated this step
  int64_t chunk_len = 0;    // prompt tokens evaluated this step
  int64_t first_embedding = -1;
  std::vector<double> embedding_sum;  // embedding requests: sum of hidden states so far
};

}  // namespace

struct EngineLoop::Impl {
  std::shared_ptr<const Model> model;
  EngineOptions options;
  std::unique_ptr<Context> ctx;
  int64_t n_vocab = 0;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Pending> waiting;          // guarded by mu
  std::unordered_set<uint64_t> cancel;  // guarded by mu
  bool stopping = false;                // guarded by mu
  uint64_t next_id = 1;                 // guarded by mu
  EngineStats stats;                    // guarded by mu

  // Engine thread only.
  std::vector<std::optional<Slot>> slots;
  std::vector<BatchEntry> batch;
  std::vector<float> masked;  // logits copy for constrained sampling
  std::string text;
  std::thread thread;

  void run();
  bool admit_and_collect_cancels(std::vector<uint64_t>* cancelled);
  void step();
  void finish(std::optional<Slot>& slot, FinishReason reason, Status error = {});
  void accumulate_embedding(Slot& s, int64_t evaluated);
  void finish_embedding(std::optional<Slot>& slot);
  // Samples the slot's next token from `logits`; returns false when the request finished.
  bool sample_next(std::optional<Slot>& slot, std::span<const float> logits);
};

EngineLoop::EngineLoop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<EngineLoop>> EngineLoop::create(std::shared_ptr<const Model> model,
                                                       const EngineOptions& o) {
  if (!model) return invalid_argument("no model");
  if (o.max_slots < 1 || o.max_slots > 1024) return invalid_argument("max_slots must be in [1, 1024]");
  if (o.max_batch_tokens < o.max_slots)
    return invalid_argument("max_batch_tokens must be at least max_slots");
  if (o.max_waiting < 0) return invalid_argument("max_waiting must not be negative");
  auto impl = std::make_unique<Impl>();
  impl->model = model;
  impl->options = o;
  INFERD_ASSIGN_OR_RETURN(impl->ctx, Context::create(model, {.ctx_size = o.ctx_per_slot,
                                                             .max_seqs = o.max_slots,
                                                             .max_batch = o.max_batch_tokens,
                                                             .num_threads = o.num_threads}));
  impl->n_vocab = model->vocab_size();
  impl->slots.resize(o.max_slots);
  impl->batch.reserve(o.max_batch_tokens);
  impl->masked.resize(impl->n_vocab);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<EngineLoop>(new EngineLoop(std::move(impl)));
}

EngineLoop::~EngineLoop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

const Model& EngineLoop::model() const { return *impl_->model; }
int64_t EngineLoop::ctx_per_slot() const { return impl_->ctx->ctx_size(); }

EngineStats EngineLoop::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

Result<uint64_t> EngineLoop::submit(GenerationRequest request, std::shared_ptr<GenerationSink> sink) {
  if (!sink) return invalid_argument("no sink");
  const int64_t n_ctx = impl_->ctx->ctx_size();
  const auto n_prompt = static_cast<int64_t>(request.prompt.size());
  if (n_prompt == 0) return invalid_argument("the prompt is empty");
  for (TokenId t : request.prompt)
    if (t < 0 || t >= impl_->n_vocab)
      return invalid_argument("prompt token {} is outside the vocabulary [0, {})", t, impl_->n_vocab);
  const int64_t room = request.embedding ? 0 : request.max_tokens > 0 ? request.max_tokens
                                              : (request.max_tokens == 0 ? 0 : 1);
  if (n_prompt + room > n_ctx)
    return invalid_argument(
        "this model's context holds {} tokens; the request has {} prompt tokens{}", n_ctx, n_prompt,
        request.max_tokens > 0 ? fmt::format(" and asks for {} more", request.max_tokens) : std::string());
  if (request.prompt_logprobs > TokenLogprobs::kMaxTop)
    return invalid_argument("at most {} prompt log-probabilities per token", TokenLogprobs::kMaxTop);
  INFERD_ASSIGN_OR_RETURN(Sampler sampler, Sampler::create(request.sampling, static_cast<int>(impl_->n_vocab)));
  sampler.feed_prompt(request.prompt);

  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->stopping) return unsupported("the engine is shutting down");
  if (static_cast<int>(impl_->waiting.size()) >= impl_->options.max_waiting)
    return resource_exhausted("the request queue is full ({} waiting)", impl_->waiting.size());
  const uint64_t id = impl_->next_id++;
  impl_->waiting.push_back({id, std::move(request), std::move(sink), std::move(sampler), Clock::now()});
  impl_->stats.waiting = static_cast<int>(impl_->waiting.size());
  impl_->cv.notify_one();
  return id;
}

void EngineLoop::cancel(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->cancel.insert(id);
  }
  impl_->cv.notify_one();
}

void EngineLoop::Impl::finish(std::optional<Slot>& slot, FinishReason reason, Status error) {
  Slot& s = *slot;
  GenerationResult r;
  r.reason = reason;
  r.error = std::move(error);
  if (reason != FinishReason::kError && reason != FinishReason::kCancelled) {
    // Text held back for a stop string or an unfinished character is released now.
    std::string tail;
    s.stream.flush(tail);
    std::string released;
    if (!s.stop.push(tail, released)) s.stop.flush(released);
    r.tail_text = std::move(released);
  }
  r.prompt_tokens = static_cast<int64_t>(s.request.prompt.size());
  r.completion_tokens = s.generated;
  const auto now = Clock::now();
  const auto started = s.started_at.time_since_epoch().count() ? s.started_at : now;
  const auto first = s.first_token_at.time_since_epoch().count() ? s.first_token_at : now;
  r.queue_ms = ms_between(s.queued_at, started);
  r.prefill_ms = ms_between(started, first);
  r.decode_ms = ms_between(first, now);
  s.sink->on_finish(r);
  {
    std::lock_guard<std::mutex> lock(mu);
    stats.completed++;
    stats.prompt_tokens += r.prompt_tokens;
    stats.generated_tokens += r.completion_tokens;
  }
  slot.reset();
}

bool EngineLoop::Impl::sample_next(std::optional<Slot>& slot, std::span<const float> logits) {
  Slot& s = *slot;
  std::span<const float> view = logits;
  if (s.request.constraint) {
    std::copy(logits.begin(), logits.end(), masked.begin());
    s.request.constraint->apply(masked);
    view = masked;
  }
  const TokenId token = s.sampler.sample(view);
  if (s.generated == 0) s.first_token_at = Clock::now();
  s.generated++;
  const bool eog = model->is_end_of_generation(token) && !s.request.ignore_eos;
  if (s.request.constraint) {
    if (Status st = s.request.constraint->accept(token); !st.ok() && !eog) {
      finish(slot, FinishReason::kError, st);
      return false;
    }
  }
  if (eog) {
    finish(slot, FinishReason::kStop);
    return false;
  }
  s.sampler.accept(token);
  text.clear();
  std::string piece;
  s.stream.push(token, piece);
  const bool stopped = s.stop.push(piece, text);
  const TokenLogprobs* lp = s.request.sampling.wants_logprobs() ? &s.sampler.last_logprobs() : nullptr;
  s.sink->on_token(token, text, lp);
  if (stopped) {
    finish(slot, FinishReason::kStop);
    return false;
  }
  if (s.request.constraint && s.request.constraint->is_finished() &&
      !s.request.ignore_eos) {
    finish(slot, FinishReason::kStop);
    return false;
  }
  if ((s.request.max_tokens >= 0 && s.generated >= s.request.max_tokens) ||
      s.kv_len + 1 >= ctx->ctx_size()) {
    finish(slot, FinishReason::kLength);
    return false;
  }
  s.next = token;
  return true;
}

void EngineLoop::Impl::accumulate_embedding(Slot& s, int64_t evaluated) {
  const int64_t n_embd = model->info().n_embd;
  if (s.embedding_sum.empty()) s.embedding_sum.assign(n_embd, 0.0);
  for (int64_t k = 0; k < evaluated; ++k) {
    auto e = ctx->embedding(s.first_embedding + k);
    for (int64_t i = 0; i < n_embd; ++i) s.embedding_sum[i] += e[i];
  }
}

void EngineLoop::Impl::finish_embedding(std::optional<Slot>& slot) {
  Slot& s = *slot;
  double norm = 0.0;
  for (double v : s.embedding_sum) norm += v * v;
  norm = std::sqrt(norm);
  std::vector<float> out(s.embedding_sum.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = norm > 0 ? static_cast<float>(s.embedding_sum[i] / norm) : 0.0f;
  s.first_token_at = Clock::now();
  s.sink->on_embedding(out);
  finish(slot, FinishReason::kStop);
}

bool EngineLoop::Impl::admit_and_collect_cancels(std::vector<uint64_t>* cancelled) {
  std::unique_lock<std::mutex> lock(mu);
  const auto busy = [&] {
    return std::any_of(slots.begin(), slots.end(), [](const auto& s) { return s.has_value(); });
  };
  cv.wait(lock, [&] { return stopping || !waiting.empty() || busy(); });
  if (stopping) return false;
  // Every cancellation is handled now: waiting requests are dropped here, running ones by the
  // caller; ids of finished requests are forgotten.
  cancelled->assign(cancel.begin(), cancel.end());
  std::vector<Pending> dropped;
  for (auto it = waiting.begin(); it != waiting.end();) {
    if (cancel.count(it->id)) {
      dropped.push_back(std::move(*it));
      it = waiting.erase(it);
    } else {
      ++it;
    }
  }
  cancel.clear();
  for (auto& slot : slots) {
    if (slot || waiting.empty()) continue;
    slot.emplace(std::move(waiting.front()), *model);
    waiting.pop_front();
    slot->started_at = Clock::now();
  }
  stats.waiting = static_cast<int>(waiting.size());
  stats.running = static_cast<int>(std::count_if(slots.begin(), slots.end(), [](const auto& s) { return s.has_value(); }));
  lock.unlock();
  for (auto& p : dropped) {
    GenerationResult r;
    r.reason = FinishReason::kCancelled;
    r.prompt_tokens = static_cast<int64_t>(p.request.prompt.size());
    r.queue_ms = ms_between(p.queued_at, Clock::now());
    p.sink->on_finish(r);
  }
  return true;
}

void EngineLoop::Impl::run() {
  std::vector<uint64_t> cancelled;
  for (;;) {
    cancelled.clear();
    if (!admit_and_collect_cancels(&cancelled)) break;
    for (auto& slot : slots)
      if (slot && std::find(cancelled.begin(), cancelled.end(), slot->id) != cancelled.end())
        finish(slot, FinishReason::kCancelled);
    step();
  }
  // Shutting down: every request still known gets its on_finish.
  for (auto& slot : slots)
    if (slot) finish(slot, FinishReason::kCancelled);
  std::deque<Pending> rest;
  {
    std::lock_guard<std::mutex> lock(mu);
    rest.swap(waiting);
  }
  for (auto& p : rest) {
    GenerationResult r;
    r.reason = FinishReason::kCancelled;
    r.prompt_tokens = static_cast<int64_t>(p.request.prompt.size());
    p.sink->on_finish(r);
  }
}

void EngineLoop::Impl::step() {
  batch.clear();
  int64_t budget = options.max_batch_tokens;
  // Decode tokens first: running streams never wait behind prompts.
  for (size_t i = 0; i < slots.size(); ++i) {
    auto& slot = slots[i];
    if (!slot || !slot->decoding) continue;
    slot->first_output = static_cast<int64_t>(batch.size());
    slot->num_outputs = 1;
    batch.push_back({slot->next, static_cast<int32_t>(slot->kv_len), static_cast<int32_t>(i), true});
    --budget;
  }
  // Then prompt chunks, in slot order, under the remaining budget.
  for (size_t i = 0; i < slots.size() && budget > 0; ++i) {
    auto& slot = slots[i];
    if (!slot || slot->decoding) continue;
    Slot& s = *slot;
    const bool echo = s.request.prompt_logprobs >= 0;
    const auto n_prompt = static_cast<int64_t>(s.request.prompt.size());
    const int64_t chunk = std::min({n_prompt - s.kv_len, budget, echo ? kEchoChunkTokens : budget});
    s.chunk_begin = s.kv_len;
    s.chunk_len = chunk;
    const bool embed = s.request.embedding;
    for (int64_t j = 0; j < chunk; ++j) {
      const int64_t pos = s.kv_len + j;
      const bool wants = !embed && (echo || pos == n_prompt - 1);
      batch.push_back({s.request.prompt[pos], static_cast<int32_t>(pos), static_cast<int32_t>(i), wants, embed});
    }
    budget -= chunk;
  }
  if (batch.empty()) return;
  // Outputs are numbered in batch order among the entries with logits (and embeddings among
  // those with embeddings).
  for (auto& slot : slots)
    if (slot) slot->num_outputs = 0, slot->first_output = -1, slot->first_embedding = -1;
  int64_t out = 0, embd = 0;
  for (const BatchEntry& e : batch) {
    Slot& s = *slots[e.seq];
    if (e.embedding && s.first_embedding < 0) s.first_embedding = embd;
    embd += e.embedding ? 1 : 0;
    if (!e.logits) continue;
    if (s.first_output < 0) s.first_output = out;
    s.num_outputs++;
    ++out;
  }
  if (Status st = ctx->decode(batch); !st.ok()) {
    for (auto& slot : slots)
      if (slot) finish(slot, FinishReason::kError, st);
    return;
  }

  for (auto& slot : slots) {
    if (!slot) continue;
    Slot& s = *slot;
    if (s.decoding) {
      s.kv_len++;
      sample_next(slot, ctx->logits(s.first_output));
      continue;
    }
    const int64_t evaluated = std::exchange(s.chunk_len, 0);
    if (evaluated == 0) continue;
    const auto n_prompt = static_cast<int64_t>(s.request.prompt.size());
    if (s.request.embedding) {
      accumulate_embedding(s, evaluated);
      s.kv_len += evaluated;
      if (s.kv_len == n_prompt) finish_embedding(slot);
      continue;
    }
    if (s.request.prompt_logprobs >= 0) {
      // Output k predicts prompt token chunk_begin + k + 1.
      for (int64_t k = 0; k < s.num_outputs; ++k) {
        const int64_t target = s.chunk_begin + k + 1;
        if (target >= n_prompt) break;
        s.prompt_logprobs.push_back(
            token_logprobs(ctx->logits(s.first_output + k), s.request.prompt[target], s.request.prompt_logprobs));
      }
    }
    s.kv_len += evaluated;
    if (s.kv_len < n_prompt) continue;
    if (s.request.prompt_logprobs >= 0) s.sink->on_prompt_logprobs(s.prompt_logprobs);
    if (s.request.max_tokens == 0) {
      s.first_token_at = Clock::now();
      finish(slot, FinishReason::kLength);
      continue;
    }
    s.decoding = true;
    sample_next(slot, ctx->logits(s.first_output + s.num_outputs - 1));
  }
}

}  // namespace inferd

#include "inferd/engine_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <utility>

#include "base/finite.h"
#include "engine/idle_persister.h"
#include "engine/kv_cache_type.h"
#include "engine/model_runner.h"
#include "engine/stop_matcher.h"
#include "inferd/sampler.h"
#include "inferd/text_stream.h"
#include "kv/block_pool.h"
#include "kv/kv_file.h"
#include "kv/sequence_blocks.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "sched/sequence_priority.h"

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

// The error of a sequence whose model produced NaN or infinite values (damaged weights, or a
// numeric overflow): its output would be noise, so it ends with an error instead.
Status non_finite_error(const char* what) {
  return internal_error("the model produced non-finite {} (NaN or infinity)", what);
}

struct Pending {
  uint64_t id;
  GenerationRequest request;
  std::shared_ptr<GenerationSink> sink;
  Sampler sampler;
  Clock::time_point queued_at;
  sched::SequenceRank rank() const { return {request.priority, id}; }
};

// A request being evaluated. Invariant: the KV cache holds tokens[0..kv_len) (in `blocks`). In
// the prefill phase tokens[kv_len..] remain to be evaluated (the prompt, or after a preemption
// the prompt and the output so far); in the decode phase `next` is the sampled token that has
// not been evaluated yet.
struct Slot {
  explicit Slot(Pending p, const Model& model)
      : id(p.id),
        request(std::move(p.request)),
        sink(std::move(p.sink)),
        sampler(std::move(p.sampler)),
        stream(model, request.skip_special, /*at_sequence_start=*/false),
        stop(request.stop),
        queued_at(p.queued_at),
        tokens(request.prompt) {}

  sched::SequenceRank rank() const { return {request.priority, id}; }
  // Echo and embedding requests need outputs for every prompt token: no prefix reuse.
  bool reuses_prefix() const { return request.prompt_logprobs < 0 && !request.embedding; }

  uint64_t id;
  GenerationRequest request;
  std::shared_ptr<GenerationSink> sink;
  Sampler sampler;
  TextStream stream;
  engine::StopMatcher stop;
  Clock::time_point queued_at, started_at, first_token_at;
  std::vector<TokenId> tokens;  // prompt, then each generated token once evaluated
  kv::SequenceBlocks blocks;
  int64_t kv_len = 0;
  bool decoding = false;
  bool prompt_done = false;     // the prompt was evaluated once (first token sampled)
  bool looked_up = false;       // the prefix cache was consulted for the current prefill
  int64_t cached_tokens = 0;    // prompt tokens the prefix cache provided at the first prefill
  bool counted_cache = false;   // cached_tokens is set (a recomputation does not change it)
  TokenId next = 0;
  int64_t generated = 0;
  std::vector<TokenLogprobs> prompt_logprobs;
  // Where this step's batch holds the slot's tokens with logits.
  int64_t first_output = -1;
  int64_t num_outputs = 0;
  int64_t chunk_begin = 0;  // index in tokens of the first token evaluated this step
  int64_t chunk_len = 0;    // tokens evaluated this step
  bool in_batch = false;    // part of this step's batch
  int64_t first_embedding = -1;
  std::vector<double> embedding_sum;  // embedding requests: sum of hidden states so far
};

}  // namespace

struct EngineLoop::Impl {
  std::shared_ptr<const Model> model;
  EngineOptions options;
  int64_t n_ctx = 0;  // positions per request
  int64_t n_vocab = 0;
  std::unique_ptr<engine::ModelRunner> runner;
  std::unique_ptr<model::KvCache> kv;
  std::unique_ptr<kv::BlockPool> pool;
  std::unique_ptr<engine::IdlePersister> persister;  // engine thread only

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Pending> waiting;          // guarded by mu
  std::unordered_set<uint64_t> cancel;  // guarded by mu
  bool stopping = false;                // guarded by mu
  uint64_t next_id = 1;                 // guarded by mu
  EngineStats stats;                    // guarded by mu
  std::deque<std::function<void()>> tasks;  // guarded by mu; run on the engine thread

  // Engine thread only.
  std::vector<std::optional<Slot>> slots;
  std::vector<BatchEntry> batch;
  std::vector<float> masked;  // logits copy for constrained sampling
  std::vector<size_t> order;  // slots to prefill this step, in serving order
  std::string text;
  std::thread thread;

  void run();
  bool admit_and_collect_cancels(std::vector<uint64_t>* cancelled);
  void step();
  // Makes slot i's blocks cover `positions`, preempting other sequences (never those already in
  // this step's batch) when the pool runs out; false when slot i itself had to give way.
  bool reserve(size_t i, int64_t positions);
  void preempt(Slot& s);
  // True when an earlier-admitted slot is evaluating the same prompt (the n choices of one
  // request): this one waits, then takes that prompt's blocks from the prefix cache.
  bool shares_prompt_with_earlier(size_t i) const;
  void publish_kv_stats();
  kv::KvFileShape kv_file_shape() const;
  Result<int64_t> save_prefix_now(const std::vector<TokenId>& tokens, const std::string& path);
  Result<int64_t> restore_prefix_now(const std::string& path);
  void persist_idle_prefixes() {
    persister->persist([this](const std::vector<TokenId>& t, const std::string& path) { return save_prefix_now(t, path); });
  }
  void post(std::function<void()> task);
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
  if (o.ctx_per_slot < 0) return invalid_argument("ctx_per_slot must not be negative");
  if (o.kv_block_size < 1 || o.kv_block_size > 4096) return invalid_argument("kv_block_size must be in [1, 4096]");
  if (o.kv_budget_bytes < 0) return invalid_argument("kv_budget_bytes must not be negative");
  if (o.num_threads < 0 || o.num_threads > 1024) return invalid_argument("num_threads must be in [0, 1024]");
  if (!(o.kv_persist_idle_s >= 0) || o.kv_persist_min_tokens < 0 || o.kv_persist_max_files < 1)
    return invalid_argument("kv_persist_idle_s and kv_persist_min_tokens must not be negative, kv_persist_max_files positive");
  const model::HParams& hp = model->core().hparams();
  auto impl = std::make_unique<Impl>();
  impl->model = model;
  impl->options = o;
  impl->n_ctx = o.ctx_per_slot > 0 ? o.ctx_per_slot : std::min<int64_t>(hp.n_ctx_train, 4096);
  if (impl->n_ctx > (int64_t{1} << 24)) return invalid_argument("ctx_per_slot {} is too large", impl->n_ctx);
  const int64_t bs = o.kv_block_size;
  const int64_t blocks_per_ctx = (impl->n_ctx + bs - 1) / bs;
  const backend::DType kv_type = engine::kv_cache_dtype(o.kv_type);
  INFERD_RETURN_IF_ERROR(model::KvCache::check_type(hp, kv_type));
  const int64_t block_bytes = static_cast<int64_t>(model::KvCache(hp, 0, bs, 0, kv_type).block_bytes());
  const int64_t num_blocks = o.kv_budget_bytes > 0 ? o.kv_budget_bytes / block_bytes : blocks_per_ctx * o.max_slots;
  if (num_blocks < blocks_per_ctx)
    return invalid_argument("the KV budget of {} bytes holds {} positions, less than one context of {}",
                            o.kv_budget_bytes, num_blocks * bs, impl->n_ctx);
  impl->kv = std::make_unique<model::KvCache>(hp, num_blocks, bs, o.max_slots, kv_type);
  impl->pool = std::make_unique<kv::BlockPool>(num_blocks, bs);
  impl->persister = std::make_unique<engine::IdlePersister>(
      engine::IdlePersistOptions{.dir = o.kv_persist_dir, .idle_s = o.kv_persist_idle_s,
                                 .min_tokens = o.kv_persist_min_tokens, .max_files = o.kv_persist_max_files},
      bs);
  impl->runner = std::make_unique<engine::ModelRunner>(model, o.max_batch_tokens, impl->n_ctx, o.num_threads);
  impl->n_vocab = model->vocab_size();
  impl->publish_kv_stats();
  impl->slots.resize(o.max_slots);
  impl->order.reserve(o.max_slots);
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
int64_t EngineLoop::ctx_per_slot() const { return impl_->n_ctx; }
KvCacheType EngineLoop::kv_type() const { return impl_->options.kv_type; }

EngineStats EngineLoop::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

Result<uint64_t> EngineLoop::submit(GenerationRequest request, std::shared_ptr<GenerationSink> sink) {
  if (!sink) return invalid_argument("no sink");
  const int64_t n_ctx = impl_->n_ctx;
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
  const std::shared_ptr<GenerationSink> sink = s.sink;
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
  r.cached_tokens = s.cached_tokens;
  s.blocks.release(*pool);
  const auto now = Clock::now();
  if ((reason == FinishReason::kStop || reason == FinishReason::kLength) && s.reuses_prefix())
    persister->remember(std::vector<TokenId>(s.tokens.begin(), s.tokens.begin() + s.kv_len), now);
  const auto started = s.started_at.time_since_epoch().count() ? s.started_at : now;
  const auto first = s.first_token_at.time_since_epoch().count() ? s.first_token_at : now;
  r.queue_ms = ms_between(s.queued_at, started);
  r.prefill_ms = ms_between(started, first);
  r.decode_ms = ms_between(first, now);
  slot.reset();
  {
    std::lock_guard<std::mutex> lock(mu);
    stats.running--;
    stats.completed++;
    stats.prompt_tokens += r.prompt_tokens;
    stats.generated_tokens += r.completion_tokens;
    stats.cached_tokens += r.cached_tokens;
  }
  publish_kv_stats();
  // After the slot is free: a sink that submits again from on_finish finds room.
  sink->on_finish(r);
}

bool EngineLoop::Impl::sample_next(std::optional<Slot>& slot, std::span<const float> logits) {
  Slot& s = *slot;
  if (!all_finite(logits)) {
    finish(slot, FinishReason::kError, non_finite_error("logits"));
    return false;
  }
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
      s.kv_len + 1 >= n_ctx) {
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
    auto e = runner->embedding(s.first_embedding + k);
    for (int64_t i = 0; i < n_embd; ++i) s.embedding_sum[i] += e[i];
  }
}

void EngineLoop::Impl::finish_embedding(std::optional<Slot>& slot) {
  Slot& s = *slot;
  if (!all_finite(std::span<const double>(s.embedding_sum)))
    return finish(slot, FinishReason::kError, non_finite_error("embeddings"));
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
  const auto has_work = [&] { return stopping || !waiting.empty() || !tasks.empty() || busy(); };
  // Idle with sequences to persist: wait until they are due, save them, and wait again.
  while (persister->pending() && !cv.wait_until(lock, persister->due_at(), has_work)) {
    lock.unlock();
    persist_idle_prefixes();
    lock.lock();
  }
  cv.wait(lock, has_work);
  if (stopping) return false;
  if (!tasks.empty()) {
    std::deque<std::function<void()>> now;
    now.swap(tasks);
    lock.unlock();
    for (auto& task : now) task();
    lock.lock();
  }
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
  std::vector<sched::SequenceRank> ranks;
  for (auto& slot : slots) {
    if (slot || waiting.empty()) continue;
    ranks.clear();
    for (const Pending& p : waiting) ranks.push_back(p.rank());
    const auto it = waiting.begin() + static_cast<std::ptrdiff_t>(*sched::next_to_admit(ranks));
    slot.emplace(std::move(*it), *model);
    waiting.erase(it);
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
  // Shutting down: tasks still queued run (they only touch the cache), and every request still
  // known gets its on_finish.
  std::deque<std::function<void()>> left;
  {
    std::lock_guard<std::mutex> lock(mu);
    left.swap(tasks);
  }
  for (auto& task : left) task();
  for (auto& slot : slots)
    if (slot) finish(slot, FinishReason::kCancelled);
  // Sequences waiting for an idle moment are saved now: a restart is when they are wanted.
  if (persister->pending()) persist_idle_prefixes();
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

void EngineLoop::Impl::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu);
    tasks.push_back(std::move(task));
  }
  cv.notify_one();
}

void EngineLoop::save_prefix(std::vector<TokenId> tokens, std::string path, std::function<void(Result<int64_t>)> done) {
  Impl* impl = impl_.get();
  impl->post([impl, tokens = std::move(tokens), path = std::move(path), done = std::move(done)] {
    done(impl->save_prefix_now(tokens, path));
  });
}

void EngineLoop::restore_prefix(std::string path, std::function<void(Result<int64_t>)> done) {
  Impl* impl = impl_.get();
  impl->post([impl, path = std::move(path), done = std::move(done)] { done(impl->restore_prefix_now(path)); });
}

kv::KvFileShape EngineLoop::Impl::kv_file_shape() const {
  const model::HParams& hp = model->core().hparams();
  kv::KvFileShape shape;
  shape.block_size = static_cast<uint32_t>(pool->block_size());
  shape.layers = static_cast<uint32_t>(hp.n_layer);
  shape.key_row_bytes = static_cast<uint32_t>(kv->key_row_bytes());
  shape.value_row_bytes = static_cast<uint32_t>(kv->value_row_bytes());
  // The model's identity: its shape and a sample of its token embeddings.
  const ModelInfo& info = model->info();
  const auto& embd = model->core().weights().token_embd;
  const size_t sample = std::min<size_t>(embd.row_bytes * 64, 1 << 16);
  std::vector<TokenId> words;
  for (int64_t v : {info.n_vocab, info.n_embd, info.n_layer, static_cast<int64_t>(info.weight_bytes)})
    words.push_back(static_cast<TokenId>(v ^ (v >> 31)));
  const auto* bytes = static_cast<const uint8_t*>(embd.data);
  for (size_t i = 0; i + 4 <= sample; i += 4) {
    int32_t w;
    std::memcpy(&w, bytes + i, 4);
    words.push_back(w);
  }
  shape.model_fingerprint = kv::chain_hash(kv::kRootHash, words);
  return shape;
}

Result<int64_t> EngineLoop::Impl::save_prefix_now(const std::vector<TokenId>& tokens, const std::string& path) {
  kv::SequenceBlocks seq;
  const int64_t n = seq.adopt_cached_prefix(*pool, tokens, static_cast<int64_t>(tokens.size()));
  kv::KvFileContents contents;
  contents.tokens.assign(tokens.begin(), tokens.begin() + n);
  const size_t kb = kv->block_key_bytes(), vb = kv->block_value_bytes();
  contents.keys.resize(seq.table().size() * kb);
  contents.values.resize(seq.table().size() * vb);
  for (size_t i = 0; i < seq.table().size(); ++i)
    kv->read_block(seq.table()[i], std::span(contents.keys).subspan(i * kb, kb),
                   std::span(contents.values).subspan(i * vb, vb));
  seq.release(*pool);
  if (n > 0) INFERD_RETURN_IF_ERROR(kv::write_kv_file(path, kv_file_shape(), contents));
  return n;
}

Result<int64_t> EngineLoop::Impl::restore_prefix_now(const std::string& path) {
  const kv::KvFileShape shape = kv_file_shape();
  INFERD_ASSIGN_OR_RETURN(kv::KvFileContents c, kv::read_kv_file(path, shape));
  const int64_t bs = pool->block_size();
  const std::span<const TokenId> tokens(c.tokens);
  kv::BlockHash hash = kv::kRootHash;
  int64_t restored = 0;
  for (int64_t i = 0; i * bs < static_cast<int64_t>(tokens.size()); ++i) {
    const auto block_tokens = tokens.subspan(i * bs, bs);
    hash = kv::chain_hash(hash, block_tokens);
    if (const auto have = pool->lookup(hash, block_tokens)) {
      pool->release(*have);
    } else {
      const auto b = pool->allocate();
      if (!b) break;  // the pool is full of running sequences: a shorter prefix is restored
      const size_t kb = kv->block_key_bytes(), vb = kv->block_value_bytes();
      kv->write_block(*b, std::span<const uint8_t>(c.keys).subspan(i * kb, kb),
                      std::span<const uint8_t>(c.values).subspan(i * vb, vb));
      pool->publish(*b, hash, block_tokens);
      pool->release(*b);
    }
    restored += bs;
  }
  publish_kv_stats();
  return restored;
}

void EngineLoop::Impl::publish_kv_stats() {
  const kv::BlockPool::Counts c = pool->counts();
  std::lock_guard<std::mutex> lock(mu);
  stats.kv_blocks_total = pool->num_blocks();
  stats.kv_blocks_used = c.used;
  stats.kv_blocks_cached = c.cached;
  stats.kv_block_size = pool->block_size();
  stats.prefix_queries = c.queries;
  stats.prefix_hits = c.hits;
}

void EngineLoop::Impl::preempt(Slot& s) {
  s.blocks.release(*pool);
  s.kv_len = 0;
  s.decoding = false;  // recomputed first; a sequence past its prompt then resumes with `next`
  s.looked_up = false;
  s.embedding_sum.clear();
  s.prompt_logprobs.clear();
  std::lock_guard<std::mutex> lock(mu);
  stats.preemptions++;
}

bool EngineLoop::Impl::reserve(size_t i, int64_t positions) {
  std::vector<size_t> candidates;  // only when the pool runs out
  std::vector<sched::SequenceRank> ranks;
  while (!slots[i]->blocks.reserve(*pool, positions)) {
    candidates.clear();
    ranks.clear();
    for (size_t j = 0; j < slots.size(); ++j) {
      if (!slots[j] || slots[j]->in_batch || slots[j]->blocks.table().empty()) continue;
      candidates.push_back(j);
      ranks.push_back(slots[j]->rank());
    }
    const auto victim = sched::preemption_victim(ranks);
    if (!victim) return false;
    const size_t v = candidates[*victim];
    preempt(*slots[v]);
    if (v == i) return false;
  }
  return true;
}

bool EngineLoop::Impl::shares_prompt_with_earlier(size_t i) const {
  const Slot& s = *slots[i];
  for (const auto& other : slots)
    if (other && other->id < s.id && !other->prompt_done && other->reuses_prefix() &&
        other->request.prompt == s.request.prompt)
      return true;
  return false;
}

void EngineLoop::Impl::step() {
  batch.clear();
  int64_t budget = options.max_batch_tokens;
  for (auto& slot : slots)
    if (slot) slot->in_batch = false, slot->chunk_len = 0;
  // Decode tokens first: running streams never wait behind prompts.
  for (size_t i = 0; i < slots.size(); ++i) {
    auto& slot = slots[i];
    if (!slot || !slot->decoding) continue;
    if (!reserve(i, slot->kv_len + 1)) continue;  // preempted
    slot->in_batch = true;
    batch.push_back({slot->next, static_cast<int32_t>(slot->kv_len), static_cast<int32_t>(i), true});
    --budget;
  }
  // Then prefill chunks (prompts, and sequences being recomputed), in serving order, under the
  // remaining budget.
  order.clear();
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i] && !slots[i]->decoding && !slots[i]->in_batch) order.push_back(i);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return sched::served_before(slots[a]->rank(), slots[b]->rank()); });
  for (size_t i : order) {
    if (budget <= 0) break;
    auto& slot = slots[i];
    if (!slot || slot->decoding) continue;  // preempted meanwhile, or decoding
    Slot& s = *slot;
    const auto n_known = static_cast<int64_t>(s.tokens.size());
    if (!s.looked_up && s.reuses_prefix() && !s.prompt_done && shares_prompt_with_earlier(i)) continue;
    if (!s.looked_up) {
      s.looked_up = true;
      if (s.reuses_prefix()) {
        // The last prompt token is always evaluated (its logits give the first token); a
        // recomputed sequence needs no logits until `next` is decoded.
        const int64_t limit = s.prompt_done ? n_known : n_known - 1;
        s.kv_len = s.blocks.adopt_cached_prefix(*pool, s.tokens, limit);
        if (!s.counted_cache) s.cached_tokens = s.kv_len;
      }
      s.counted_cache = true;
    }
    const bool echo = s.request.prompt_logprobs >= 0 && !s.prompt_done;
    int64_t chunk = std::min({n_known - s.kv_len, budget, echo ? kEchoChunkTokens : budget});
    if (chunk > 0 && !reserve(i, s.kv_len + chunk)) continue;
    if (chunk <= 0) {
      // Everything is cached already (a recomputed sequence): resume decoding next step.
      if (s.prompt_done) s.decoding = true;
      continue;
    }
    s.in_batch = true;
    s.chunk_begin = s.kv_len;
    s.chunk_len = chunk;
    const bool embed = s.request.embedding;
    for (int64_t j = 0; j < chunk; ++j) {
      const int64_t pos = s.kv_len + j;
      const bool wants = !embed && (echo || (pos == n_known - 1 && !s.prompt_done));
      batch.push_back({s.tokens[pos], static_cast<int32_t>(pos), static_cast<int32_t>(i), wants, embed});
    }
    budget -= chunk;
  }
  publish_kv_stats();
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
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i]) kv->set_table(static_cast<int64_t>(i), slots[i]->blocks.table());
  if (Status st = runner->decode(batch, *kv); !st.ok()) {
    for (auto& slot : slots)
      if (slot && slot->in_batch) finish(slot, FinishReason::kError, st);
    return;
  }

  for (auto& slot : slots) {
    if (!slot || !slot->in_batch) continue;
    Slot& s = *slot;
    if (s.decoding) {
      s.tokens.push_back(s.next);
      s.blocks.append(*pool, std::span<const TokenId>(&s.next, 1));
      s.kv_len++;
      sample_next(slot, runner->logits(s.first_output));
      continue;
    }
    const int64_t evaluated = s.chunk_len;
    s.blocks.append(*pool, std::span<const TokenId>(s.tokens).subspan(s.chunk_begin, evaluated));
    const auto n_known = static_cast<int64_t>(s.tokens.size());
    if (s.request.embedding) {
      accumulate_embedding(s, evaluated);
      s.kv_len += evaluated;
      if (s.kv_len == n_known) finish_embedding(slot);
      continue;
    }
    if (s.request.prompt_logprobs >= 0 && !s.prompt_done) {
      // Output k predicts prompt token chunk_begin + k + 1.
      for (int64_t k = 0; k < s.num_outputs; ++k) {
        const int64_t target = s.chunk_begin + k + 1;
        if (target >= n_known) break;
        s.prompt_logprobs.push_back(
            token_logprobs(runner->logits(s.first_output + k), s.tokens[target], s.request.prompt_logprobs));
      }
    }
    s.kv_len += evaluated;
    if (s.kv_len < n_known) continue;
    if (s.prompt_done) {  // recomputed after a preemption: continue with the pending token
      s.decoding = true;
      continue;
    }
    s.prompt_done = true;
    if (s.request.prompt_logprobs >= 0) s.sink->on_prompt_logprobs(s.prompt_logprobs);
    if (s.request.max_tokens == 0) {
      s.first_token_at = Clock::now();
      finish(slot, FinishReason::kLength);
      continue;
    }
    s.decoding = true;
    sample_next(slot, runner->logits(s.first_output + s.num_outputs - 1));
  }
}

}  // namespace inferd

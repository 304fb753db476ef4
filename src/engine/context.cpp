#include <algorithm>

#include "base/thread_pool.h"
#include "inferd/engine.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "model/transformer.h"

namespace inferd {

struct Context::Impl {
  std::shared_ptr<const Model> model;
  const model::Model* core = nullptr;
  int64_t ctx_size = 0;
  int64_t max_seqs = 0;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<model::KvCache> kv;
  std::unique_ptr<model::ForwardScratch> scratch;
  std::vector<model::BatchToken> chunk;  // reserved to max_batch
  std::vector<float> logits;             // grows to the largest output count seen
  std::vector<float> embeddings;         // likewise
  int64_t num_outputs = 0;
  int64_t num_embeddings = 0;
};

Context::Context(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Context::~Context() = default;

Result<std::unique_ptr<Context>> Context::create(std::shared_ptr<const Model> model,
                                                 const ContextOptions& o) {
  if (!model) return invalid_argument("no model");
  const model::HParams& hp = model->core().hparams();
  if (o.ctx_size < 0) return invalid_argument("ctx_size must not be negative");
  if (o.max_seqs < 1 || o.max_seqs > 4096) return invalid_argument("max_seqs must be in [1, 4096]");
  if (o.max_batch < 1 || o.max_batch > 65536) return invalid_argument("max_batch must be in [1, 65536]");
  if (o.num_threads < 0 || o.num_threads > 1024) return invalid_argument("num_threads must be in [0, 1024]");
  auto impl = std::make_unique<Impl>();
  impl->model = model;
  impl->core = &model->core();
  impl->ctx_size = o.ctx_size > 0 ? o.ctx_size : std::min<int64_t>(hp.n_ctx_train, 4096);
  if (impl->ctx_size > (int64_t{1} << 24)) return invalid_argument("ctx_size {} is too large", impl->ctx_size);
  impl->max_seqs = o.max_seqs;
  impl->pool = std::make_unique<ThreadPool>(o.num_threads);
  impl->kv = std::make_unique<model::KvCache>(hp, o.max_seqs, impl->ctx_size);
  const int64_t max_batch = std::min(o.max_batch, impl->ctx_size * o.max_seqs);
  impl->scratch = std::make_unique<model::ForwardScratch>(hp, max_batch, impl->ctx_size,
                                                          impl->pool->num_threads());
  impl->chunk.reserve(max_batch);
  return std::unique_ptr<Context>(new Context(std::move(impl)));
}

const Model& Context::model() const { return *impl_->model; }
int64_t Context::ctx_size() const { return impl_->ctx_size; }
int64_t Context::max_seqs() const { return impl_->max_seqs; }
int Context::num_threads() const { return impl_->pool->num_threads(); }
size_t Context::kv_bytes() const { return impl_->kv->size_bytes(); }
int64_t Context::num_outputs() const { return impl_->num_outputs; }
int64_t Context::num_embeddings() const { return impl_->num_embeddings; }

std::span<const float> Context::embedding(int64_t i) const {
  const int64_t n_embd = impl_->core->hparams().n_embd;
  return {impl_->embeddings.data() + i * n_embd, static_cast<size_t>(n_embd)};
}

std::span<const float> Context::logits(int64_t i) const {
  const int64_t n_vocab = impl_->core->hparams().n_vocab;
  return {impl_->logits.data() + i * n_vocab, static_cast<size_t>(n_vocab)};
}

Status Context::decode(std::span<const BatchEntry> batch) {
  Impl& m = *impl_;
  const int64_t n_vocab = m.core->hparams().n_vocab;
  const int64_t n_embd = m.core->hparams().n_embd;
  const int64_t wanted = std::count_if(batch.begin(), batch.end(), [](const BatchEntry& e) { return e.logits; });
  const int64_t wanted_embd =
      std::count_if(batch.begin(), batch.end(), [](const BatchEntry& e) { return e.embedding; });
  if (static_cast<int64_t>(m.logits.size()) < wanted * n_vocab) m.logits.resize(wanted * n_vocab);
  if (static_cast<int64_t>(m.embeddings.size()) < wanted_embd * n_embd) m.embeddings.resize(wanted_embd * n_embd);
  m.num_outputs = 0;
  m.num_embeddings = 0;
  const int64_t max_batch = m.scratch->max_batch();
  int64_t outputs = 0, embeddings = 0;
  for (size_t begin = 0; begin < batch.size(); begin += max_batch) {
    const size_t end = std::min(batch.size(), begin + static_cast<size_t>(max_batch));
    m.chunk.clear();
    int64_t chunk_outputs = 0, chunk_embeddings = 0;
    for (size_t i = begin; i < end; ++i) {
      const BatchEntry& e = batch[i];
      m.chunk.push_back({e.token, e.pos, e.seq, e.logits, e.embedding});
      chunk_outputs += e.logits ? 1 : 0;
      chunk_embeddings += e.embedding ? 1 : 0;
    }
    INFERD_RETURN_IF_ERROR(m.core->transformer().forward(m.chunk, *m.kv, *m.scratch, *m.pool,
                                                         m.logits.data() + outputs * n_vocab,
                                                         m.embeddings.data() + embeddings * n_embd));
    outputs += chunk_outputs;
    embeddings += chunk_embeddings;
  }
  m.num_outputs = outputs;
  m.num_embeddings = embeddings;
  return {};
}

}  // namespace inferd

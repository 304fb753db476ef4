#include <algorithm>

#include "engine/model_runner.h"
#include "inferd/engine.h"
#include "engine/kv_cache_type.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace inferd {
namespace {

// Positions per KV block of a Context. Its sequences own fixed tables of consecutive block ids,
// so each KV head's rows of a sequence are one run whatever the block size (KvCache); the size
// only sets how many table entries attention walks per token.
constexpr int64_t kContextBlockSize = 256;

}  // namespace

struct Context::Impl {
  std::shared_ptr<const Model> model;
  int64_t ctx_size = 0;
  int64_t max_seqs = 0;
  std::unique_ptr<engine::ModelRunner> runner;
  std::unique_ptr<model::KvCache> kv;
  std::vector<std::vector<int32_t>> tables;  // sequence s owns blocks [s * n, (s + 1) * n)
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
  impl->ctx_size = o.ctx_size > 0 ? o.ctx_size : std::min<int64_t>(hp.n_ctx_train, 4096);
  if (impl->ctx_size > (int64_t{1} << 24)) return invalid_argument("ctx_size {} is too large", impl->ctx_size);
  impl->max_seqs = o.max_seqs;
  const backend::DType kv_type = engine::kv_cache_dtype(o.kv_type);
  INFERD_RETURN_IF_ERROR(model::KvCache::check_type(hp, kv_type));
  const int64_t blocks_per_seq = (impl->ctx_size + kContextBlockSize - 1) / kContextBlockSize;
  impl->kv = std::make_unique<model::KvCache>(hp, blocks_per_seq * o.max_seqs, kContextBlockSize, o.max_seqs,
                                             kv_type);
  impl->tables.resize(o.max_seqs);
  for (int64_t s = 0; s < o.max_seqs; ++s) {
    for (int64_t b = 0; b < blocks_per_seq; ++b) impl->tables[s].push_back(static_cast<int32_t>(s * blocks_per_seq + b));
    impl->kv->set_table(s, impl->tables[s]);
  }
  const int64_t max_batch = std::min(o.max_batch, impl->ctx_size * o.max_seqs);
  impl->runner = std::make_unique<engine::ModelRunner>(model, max_batch, impl->ctx_size, o.num_threads);
  return std::unique_ptr<Context>(new Context(std::move(impl)));
}

const Model& Context::model() const { return *impl_->model; }
int64_t Context::ctx_size() const { return impl_->ctx_size; }
int64_t Context::max_seqs() const { return impl_->max_seqs; }
int Context::num_threads() const { return impl_->runner->num_threads(); }
size_t Context::kv_bytes() const { return impl_->kv->size_bytes(); }
int64_t Context::num_outputs() const { return impl_->runner->num_outputs(); }
int64_t Context::num_embeddings() const { return impl_->runner->num_embeddings(); }
std::span<const float> Context::embedding(int64_t i) const { return impl_->runner->embedding(i); }
std::span<const float> Context::logits(int64_t i) const { return impl_->runner->logits(i); }

Status Context::decode(std::span<const BatchEntry> batch) {
  for (const BatchEntry& e : batch)
    if (e.pos >= impl_->ctx_size)
      return out_of_range("position {} is outside the context of {} tokens", e.pos, impl_->ctx_size);
  return impl_->runner->decode(batch, *impl_->kv);
}

}  // namespace inferd

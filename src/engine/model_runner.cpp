#include "engine/model_runner.h"

#include <algorithm>

#include "model/model.h"

namespace inferd::engine {

ModelRunner::ModelRunner(std::shared_ptr<const Model> model, int64_t max_batch, int64_t max_ctx, int num_threads)
    : model_(std::move(model)), core_(model_->core()), max_ctx_(max_ctx) {
  pool_ = std::make_unique<ThreadPool>(num_threads);
  scratch_ = std::make_unique<model::ForwardScratch>(core_.hparams(), max_batch, max_ctx, pool_->num_threads());
  chunk_.reserve(max_batch);
}

std::span<const float> ModelRunner::logits(int64_t i) const {
  const int64_t n_vocab = core_.hparams().n_vocab;
  return {logits_.data() + i * n_vocab, static_cast<size_t>(n_vocab)};
}

std::span<const float> ModelRunner::embedding(int64_t i) const {
  const int64_t n_embd = core_.hparams().n_embd;
  return {embeddings_.data() + i * n_embd, static_cast<size_t>(n_embd)};
}

Status ModelRunner::decode(std::span<const BatchEntry> batch, model::KvCache& kv) {
  const int64_t n_vocab = core_.hparams().n_vocab;
  const int64_t n_embd = core_.hparams().n_embd;
  const int64_t wanted = std::count_if(batch.begin(), batch.end(), [](const BatchEntry& e) { return e.logits; });
  const int64_t wanted_embd =
      std::count_if(batch.begin(), batch.end(), [](const BatchEntry& e) { return e.embedding; });
  if (static_cast<int64_t>(logits_.size()) < wanted * n_vocab) logits_.resize(wanted * n_vocab);
  if (static_cast<int64_t>(embeddings_.size()) < wanted_embd * n_embd) embeddings_.resize(wanted_embd * n_embd);
  num_outputs_ = 0;
  num_embeddings_ = 0;
  const int64_t max_batch = scratch_->max_batch();
  int64_t outputs = 0, embeddings = 0;
  for (size_t begin = 0; begin < batch.size(); begin += max_batch) {
    const size_t end = std::min(batch.size(), begin + static_cast<size_t>(max_batch));
    chunk_.clear();
    int64_t chunk_outputs = 0, chunk_embeddings = 0;
    for (size_t i = begin; i < end; ++i) {
      const BatchEntry& e = batch[i];
      chunk_.push_back({e.token, e.pos, e.seq, e.logits, e.embedding});
      chunk_outputs += e.logits ? 1 : 0;
      chunk_embeddings += e.embedding ? 1 : 0;
    }
    INFERD_RETURN_IF_ERROR(core_.transformer().forward(chunk_, kv, *scratch_, *pool_, logits_.data() + outputs * n_vocab,
                                                       embeddings_.data() + embeddings * n_embd));
    outputs += chunk_outputs;
    embeddings += chunk_embeddings;
  }
  num_outputs_ = outputs;
  num_embeddings_ = embeddings;
  return {};
}

}  // namespace inferd::engine

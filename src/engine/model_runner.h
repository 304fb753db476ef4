// ModelRunner: evaluates batches of tokens of one model against a KvCache: the thread pool,
// the forward pass's scratch buffers and the logits and embeddings of the last batch. Batches
// larger than max_batch are evaluated in pieces. Used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/thread_pool.h"
#include "inferd/engine.h"
#include "model/kv_cache.h"
#include "model/transformer.h"

namespace inferd::engine {

class ModelRunner {
 public:
  // `max_ctx`: the most positions a sequence may have.
  ModelRunner(std::shared_ptr<const Model> model, int64_t max_batch, int64_t max_ctx, int num_threads);

  const Model& model() const { return *model_; }
  int num_threads() const { return pool_->num_threads(); }
  int64_t max_ctx() const { return max_ctx_; }

  // Evaluates `batch` (BatchEntry::seq indexes the cache's tables). Logits of entries with
  // `logits`, and embeddings of entries with `embedding`, are available in batch order until
  // the next call.
  Status decode(std::span<const BatchEntry> batch, model::KvCache& kv);
  int64_t num_outputs() const { return num_outputs_; }
  int64_t num_embeddings() const { return num_embeddings_; }
  std::span<const float> logits(int64_t i) const;
  std::span<const float> embedding(int64_t i) const;

 private:
  std::shared_ptr<const Model> model_;
  const model::Model& core_;
  int64_t max_ctx_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<model::ForwardScratch> scratch_;
  std::vector<model::BatchToken> chunk_;  // reserved to max_batch
  std::vector<float> logits_;             // grows to the largest output count seen
  std::vector<float> embeddings_;         // likewise
  int64_t num_outputs_ = 0;
  int64_t num_embeddings_ = 0;
};

}  // namespace inferd::engine

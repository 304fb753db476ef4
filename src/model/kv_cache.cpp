#include "model/kv_cache.h"

namespace inferd::model {

KvCache::KvCache(const HParams& hp, int64_t num_seqs, int64_t ctx)
    : num_seqs_(num_seqs), ctx_(ctx), k_dim_(hp.kv_dim()), v_dim_(hp.v_dim()) {
  const size_t rows = static_cast<size_t>(hp.n_layer * num_seqs * ctx);
  k_.resize(rows * k_dim_ * sizeof(f16_t));
  v_.resize(rows * v_dim_ * sizeof(f16_t));
}

}  // namespace inferd::model

#include "model/kv_cache.h"

#include <cstring>

namespace inferd::model {

KvCache::KvCache(const HParams& hp, int64_t num_blocks, int64_t block_size, int64_t max_seqs)
    : num_blocks_(num_blocks),
      block_size_(block_size),
      n_layer_(hp.n_layer),
      k_dim_(hp.kv_dim()),
      v_dim_(hp.v_dim()),
      tables_(static_cast<size_t>(max_seqs)) {
  const auto rows = static_cast<size_t>(num_blocks * n_layer_ * block_size_);
  k_.resize(rows * static_cast<size_t>(k_dim_) * sizeof(f16_t));
  v_.resize(rows * static_cast<size_t>(v_dim_) * sizeof(f16_t));
}

std::span<uint8_t> KvCache::block_keys(int32_t block) {
  const size_t bytes = static_cast<size_t>(n_layer_ * block_size_ * k_dim_) * sizeof(f16_t);
  return {k_.as<uint8_t>() + block * bytes, bytes};
}

std::span<uint8_t> KvCache::block_values(int32_t block) {
  const size_t bytes = static_cast<size_t>(n_layer_ * block_size_ * v_dim_) * sizeof(f16_t);
  return {v_.as<uint8_t>() + block * bytes, bytes};
}

void KvCache::copy_block(int32_t dst, int32_t src) {
  std::memcpy(block_keys(dst).data(), block_keys(src).data(), block_keys(src).size());
  std::memcpy(block_values(dst).data(), block_values(src).data(), block_values(src).size());
}

}  // namespace inferd::model

#include "model/kv_cache.h"

#include <cstring>

namespace inferd::model {

Status KvCache::check_type(const HParams& hp, backend::DType type) {
  using backend::DType;
  if (type != DType::kF16 && type != DType::kQ8_0)
    return invalid_argument("the KV cache holds f16 or q8_0 rows, not {}", backend::dtype_name(type));
  const int64_t block = backend::dtype_info(type).block_elems;
  if (hp.head_dim_k % block != 0 || hp.head_dim_v % block != 0)
    return invalid_argument("a {} KV cache needs head sizes that are multiples of {} (this model's: {} and {})",
                            backend::dtype_name(type), block, hp.head_dim_k, hp.head_dim_v);
  return {};
}

KvCache::KvCache(const HParams& hp, int64_t num_blocks, int64_t block_size, int64_t max_seqs, backend::DType type)
    : num_blocks_(num_blocks),
      block_size_(block_size),
      n_layer_(hp.n_layer),
      n_head_kv_(hp.n_head_kv),
      type_(type),
      key_head_bytes_(static_cast<size_t>(backend::dtype_bytes(type, hp.head_dim_k))),
      value_head_bytes_(static_cast<size_t>(backend::dtype_bytes(type, hp.head_dim_v))),
      key_row_bytes_(key_head_bytes_ * hp.n_head_kv),
      value_row_bytes_(value_head_bytes_ * hp.n_head_kv),
      tables_(static_cast<size_t>(max_seqs)) {
  const auto rows = static_cast<size_t>(num_blocks * n_layer_ * block_size_);
  k_.resize(rows * key_row_bytes_);
  v_.resize(rows * value_row_bytes_);
}

std::span<uint8_t> KvCache::block_keys(int32_t block) {
  const size_t bytes = static_cast<size_t>(n_layer_ * block_size_) * key_row_bytes_;
  return {k_.as<uint8_t>() + block * bytes, bytes};
}

std::span<uint8_t> KvCache::block_values(int32_t block) {
  const size_t bytes = static_cast<size_t>(n_layer_ * block_size_) * value_row_bytes_;
  return {v_.as<uint8_t>() + block * bytes, bytes};
}

void KvCache::copy_block(int32_t dst, int32_t src) {
  std::memcpy(block_keys(dst).data(), block_keys(src).data(), block_keys(src).size());
  std::memcpy(block_values(dst).data(), block_values(src).data(), block_values(src).size());
}

}  // namespace inferd::model

#include "model/kv_cache.h"

#include <cstring>

#include "base/check.h"

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

namespace {

// Copies `runs` runs of `run` bytes, src_stride bytes apart in src, to dst_stride bytes apart in dst.
void copy_runs(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, int64_t runs, size_t run) {
  for (int64_t r = 0; r < runs; ++r) std::memcpy(dst + r * dst_stride, src + r * src_stride, run);
}

}  // namespace

void KvCache::read_block(int32_t block, std::span<uint8_t> keys, std::span<uint8_t> values) const {
  INFERD_CHECK(keys.size() == block_key_bytes() && values.size() == block_value_bytes());
  const int64_t runs = n_layer_ * n_head_kv_;
  const size_t k_run = block_size_ * key_head_bytes_, v_run = block_size_ * value_head_bytes_;
  copy_runs(k_.data() + block * k_run, num_blocks_ * k_run, keys.data(), k_run, runs, k_run);
  copy_runs(v_.data() + block * v_run, num_blocks_ * v_run, values.data(), v_run, runs, v_run);
}

void KvCache::write_block(int32_t block, std::span<const uint8_t> keys, std::span<const uint8_t> values) {
  INFERD_CHECK(keys.size() == block_key_bytes() && values.size() == block_value_bytes());
  const int64_t runs = n_layer_ * n_head_kv_;
  const size_t k_run = block_size_ * key_head_bytes_, v_run = block_size_ * value_head_bytes_;
  copy_runs(keys.data(), k_run, k_.data() + block * k_run, num_blocks_ * k_run, runs, k_run);
  copy_runs(values.data(), v_run, v_.data() + block * v_run, num_blocks_ * v_run, runs, v_run);
}

}  // namespace inferd::model

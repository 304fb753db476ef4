// KvCache: the keys and values of every layer, paged. Storage is a pool of blocks of
// `block_size` positions (f16, as other engines keep KV by default: half the memory of f32 with
// negligible effect on logits); a sequence is a block table, table[i] holding its positions
// [i * block_size, (i + 1) * block_size). Blocks are allocated, shared and freed by their owner
// (src/kv's BlockPool, or a Context's fixed tables); this class only maps positions to memory.
//
// Layout: [block][layer][position in block][dim], so one block of every layer is one contiguous
// range (copied or saved whole).
//
// Not thread-safe: set tables between forward passes; a forward pass writes rows of distinct
// tokens from several threads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/half.h"
#include "model/hparams.h"

namespace inferd::model {

class KvCache {
 public:
  KvCache(const HParams& hp, int64_t num_blocks, int64_t block_size, int64_t max_seqs);

  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return block_size_; }
  int64_t max_seqs() const { return static_cast<int64_t>(tables_.size()); }
  size_t size_bytes() const { return k_.size_bytes() + v_.size_bytes(); }
  // Bytes of one block (keys and values of every layer).
  size_t block_bytes() const { return static_cast<size_t>(n_layer_ * block_size_ * (k_dim_ + v_dim_)) * sizeof(f16_t); }

  // The block table of `seq` (REQUIRES: seq < max_seqs, ids < num_blocks); the span must stay
  // valid until the next set_table or the end of the forward passes that use it.
  void set_table(int64_t seq, std::span<const int32_t> blocks) { tables_[seq] = blocks; }
  // Positions `seq` can hold.
  int64_t capacity(int64_t seq) const { return static_cast<int64_t>(tables_[seq].size()) * block_size_; }

  f16_t* k(int64_t layer, int64_t seq, int64_t pos) { return k_.as<f16_t>() + row(layer, seq, pos) * k_dim_; }
  f16_t* v(int64_t layer, int64_t seq, int64_t pos) { return v_.as<f16_t>() + row(layer, seq, pos) * v_dim_; }

  // Copies every layer's keys and values of block `src` to block `dst`.
  void copy_block(int32_t dst, int32_t src);
  // The contiguous keys and values of one block (for saving and restoring).
  std::span<uint8_t> block_keys(int32_t block);
  std::span<uint8_t> block_values(int32_t block);

 private:
  int64_t row(int64_t layer, int64_t seq, int64_t pos) const {
    const int64_t block = tables_[seq][pos / block_size_];
    return (block * n_layer_ + layer) * block_size_ + pos % block_size_;
  }

  int64_t num_blocks_, block_size_, n_layer_, k_dim_, v_dim_;
  AlignedBuffer k_, v_;
  std::vector<std::span<const int32_t>> tables_;
};

}  // namespace inferd::model

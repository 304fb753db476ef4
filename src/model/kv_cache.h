// KvCache: the keys and values of every layer, paged. Storage is a pool of blocks of
// `block_size` positions. Rows are f16 by default (half the memory of f32 with negligible effect
// on logits) or Q8_0 (blocks of 32 int8 values with an f16 scale: 53% of f16's memory, logits
// within a few hundredths); a sequence is a block table, table[i] holding its positions
// [i * block_size, (i + 1) * block_size). Blocks are allocated, shared and freed by their owner
// (src/kv's BlockPool, or a Context's fixed tables); this class only maps positions to memory.
//
// Layout: [layer][KV head][block][position in block][head dim]. One head's keys (values) at the
// positions of a block are one contiguous run, and so are its runs in blocks with consecutive
// ids: a sequence whose table holds consecutive ids (a Context's always does; a BlockPool hands
// out fresh blocks in order) has each head's rows of a layer in one range, which attention reads
// as one sequential stream. Scattered short runs cost far more: the processor's prefetchers do
// not follow them, and asking for them ahead in software does not make up for it.
//
// Not thread-safe: set tables between forward passes; a forward pass writes rows of distinct
// tokens from several threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "backend/dtype.h"
#include "base/aligned_buffer.h"
#include "base/status.h"
#include "base/half.h"
#include "model/hparams.h"

namespace inferd::model {

class KvCache {
 public:
  // Whether rows of `type` can hold this model's keys and values: F16 always; Q8_0 when every
  // head's key and value length is a multiple of 32 (a head starts at a block boundary).
  static Status check_type(const HParams& hp, backend::DType type);

  // REQUIRES check_type(hp, type).ok().
  KvCache(const HParams& hp, int64_t num_blocks, int64_t block_size, int64_t max_seqs,
          backend::DType type = backend::DType::kF16);

  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return block_size_; }
  int64_t max_seqs() const { return static_cast<int64_t>(tables_.size()); }
  backend::DType type() const { return type_; }
  size_t size_bytes() const { return k_.size_bytes() + v_.size_bytes(); }
  // Bytes of one position's keys (all KV heads of one layer), and of its values.
  size_t key_row_bytes() const { return key_row_bytes_; }
  size_t value_row_bytes() const { return value_row_bytes_; }
  // Bytes of one KV head's keys (values) at one position: also the distance between a head's
  // keys (values) at consecutive positions of one block.
  size_t key_head_bytes() const { return key_head_bytes_; }
  size_t value_head_bytes() const { return value_head_bytes_; }
  // Bytes of one block's keys, of its values, and of both (every layer).
  size_t block_key_bytes() const { return static_cast<size_t>(n_layer_ * block_size_) * key_row_bytes_; }
  size_t block_value_bytes() const { return static_cast<size_t>(n_layer_ * block_size_) * value_row_bytes_; }
  size_t block_bytes() const { return block_key_bytes() + block_value_bytes(); }

  // The block table of `seq` (REQUIRES: seq < max_seqs, ids < num_blocks); the span must stay
  // valid until the next set_table or the end of the forward passes that use it.
  void set_table(int64_t seq, std::span<const int32_t> blocks) { tables_[seq] = blocks; }
  // Positions `seq` can hold.
  int64_t capacity(int64_t seq) const { return static_cast<int64_t>(tables_[seq].size()) * block_size_; }

  // The keys (values) of KV head `head` at a position: head_dim_k (head_dim_v) elements of
  // type(); those of the next position in the same block follow them directly.
  uint8_t* k(int64_t layer, int64_t seq, int64_t pos, int64_t head) {
    return k_.as<uint8_t>() + head_run(layer, seq, pos, head) * key_head_bytes();
  }
  uint8_t* v(int64_t layer, int64_t seq, int64_t pos, int64_t head) {
    return v_.as<uint8_t>() + head_run(layer, seq, pos, head) * value_head_bytes();
  }

  // How many of the n positions from `pos` on (REQUIRES pos + n <= capacity(seq)) are one run:
  // their rows of any layer and head follow each other, up to the end of the last block of
  // consecutive ids.
  int64_t run_positions(int64_t seq, int64_t pos, int64_t n) const {
    const std::span<const int32_t> table = tables_[seq];
    int64_t i = pos / block_size_, count = block_size_ - pos % block_size_;
    for (; count < n && table[i + 1] == table[i] + 1; ++i) count += block_size_;
    return std::min(count, n);
  }

  // A block's keys and values in the order [layer][KV head][position][head dim] (saving and
  // restoring): block_key_bytes() and block_value_bytes() bytes.
  void read_block(int32_t block, std::span<uint8_t> keys, std::span<uint8_t> values) const;
  void write_block(int32_t block, std::span<const uint8_t> keys, std::span<const uint8_t> values);

 private:
  // The index of (layer, seq, pos, head) in units of one head's keys or values.
  int64_t head_run(int64_t layer, int64_t seq, int64_t pos, int64_t head) const {
    const int64_t block = tables_[seq][pos / block_size_];
    return ((layer * n_head_kv_ + head) * num_blocks_ + block) * block_size_ + pos % block_size_;
  }

  int64_t num_blocks_, block_size_, n_layer_, n_head_kv_;
  backend::DType type_;
  size_t key_head_bytes_, value_head_bytes_, key_row_bytes_, value_row_bytes_;
  AlignedBuffer k_, v_;
  std::vector<std::span<const int32_t>> tables_;
};

}  // namespace inferd::model

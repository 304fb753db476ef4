// KvCache: keys and values of every layer for a fixed number of sequences, each with room for
// `ctx` positions, stored as f16 (as other engines do by default: half the memory of f32 with
// negligible effect on logits). Layout per layer: [seq][pos][kv_dim].
// Not thread-safe: owned by one Context; the forward pass writes rows of distinct tokens from
// several threads.
#pragma once

#include <cstdint>

#include "base/aligned_buffer.h"
#include "base/half.h"
#include "model/hparams.h"

namespace inferd::model {

class KvCache {
 public:
  KvCache(const HParams& hp, int64_t num_seqs, int64_t ctx);

  int64_t num_seqs() const { return num_seqs_; }
  int64_t ctx() const { return ctx_; }
  size_t size_bytes() const { return k_.size_bytes() + v_.size_bytes(); }

  f16_t* k(int64_t layer, int64_t seq, int64_t pos) {
    return k_.as<f16_t>() + ((layer * num_seqs_ + seq) * ctx_ + pos) * k_dim_;
  }
  f16_t* v(int64_t layer, int64_t seq, int64_t pos) {
    return v_.as<f16_t>() + ((layer * num_seqs_ + seq) * ctx_ + pos) * v_dim_;
  }

 private:
  int64_t num_seqs_, ctx_, k_dim_, v_dim_;
  AlignedBuffer k_, v_;
};

}  // namespace inferd::model

// Transformer: the forward pass shared by every architecture in the table (arch.h). One call
// evaluates a batch of tokens that may belong to several sequences, writing their keys and
// values into a (paged) KvCache and the logits of the tokens that ask for them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "backend/cpu/matmul.h"
#include "base/aligned_buffer.h"
#include "base/function_ref.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "model/hparams.h"
#include "model/kv_cache.h"
#include "model/moe_routing.h"
#include "model/rope.h"
#include "model/weights.h"

namespace inferd::model {

struct BatchToken {
  int32_t token = 0;
  int32_t pos = 0;  // position in its sequence
  int32_t seq = 0;  // sequence (KV cache slot)
  bool want_logits = false;
  bool want_embedding = false;  // the final normalised hidden state (for embeddings)
};

// Query heads of one KV head that attention processes together (one pass over the cached rows).
constexpr int64_t kAttnHeadsPerItem = 4;

// Buffers for one forward pass of up to `max_batch` tokens, sized once (no allocation per call).
class ForwardScratch {
 public:
  ForwardScratch(const HParams& hp, int64_t max_batch, int64_t ctx, int num_threads);
  int64_t max_batch() const { return max_batch_; }

 private:
  friend class Transformer;
  // Per-thread attention scratch: scores for every position of kAttnHeadsPerItem heads, then
  // their rounded queries.
  int64_t score_row_stride() const { return (ctx_ + 15) / 16 * 16; }
  int64_t scores_per_thread() const {
    return kAttnHeadsPerItem * (score_row_stride() + (head_dim_ + 15) / 16 * 16);
  }

  int64_t max_batch_;
  int64_t ctx_;
  int64_t head_dim_ = 0;
  AlignedBuffer x_, xn_, q_, k_, v_, att_, tmp_, gate_, up_, rope_cs_, rope_cs_local_, scores_;
  // A single token's inputs of the dense down projection, one row per thread [threads][n_ff].
  // Sparse layers: router logits [max_batch * n_expert], one expert's gathered inputs and its
  // outputs [max_batch * n_embd], the routing (null for models without experts).
  AlignedBuffer moe_logits_, moe_x_, moe_y_;
  std::unique_ptr<MoeRouting> moe_;
  backend::cpu::MatmulScratch matmul_;
};

class Transformer {
 public:
  Transformer(const HParams& hp, const Weights& w);

  const HParams& hparams() const { return hp_; }

  // Evaluates `batch` and writes the logits of tokens with want_logits, in batch order, to
  // `logits` ([count][n_vocab]), and the final normalised hidden states of tokens with
  // want_embedding to `embeddings` ([count][n_embd]; may be null when none is wanted). For every
  // token, the KV cache must already hold the token's sequence at all earlier positions (from
  // earlier calls or earlier tokens of this batch), and the sequence's block table must cover
  // the token's position. Errors: tokens, positions or sequences out of range (positions beyond
  // the table or the scratch's context), batch larger than the scratch.
  // Thread-safe for concurrent calls with distinct caches and scratches.
  Status forward(std::span<const BatchToken> batch, KvCache& kv, ForwardScratch& scratch,
                 ThreadPool& pool, float* logits, float* embeddings = nullptr) const;

 private:
  using HeadsFn = FunctionRef<void(int64_t kv_head_begin, int64_t kv_head_end)>;
  // Attention of every token of the batch, whose query, key and value heads are ready (keys and
  // values in the cache), or, with `prepare_heads` (a single token), each thread takes whole KV
  // heads and first calls (*prepare_heads)(begin, end) for them.
  void attention(std::span<const BatchToken> batch, int64_t layer, KvCache& kv, ForwardScratch& s,
                 ThreadPool& pool, const HeadsFn* prepare_heads) const;
  // Thread idx of num's part of attention(), as run on every thread of the pool.
  void attention_part(std::span<const BatchToken> batch, int64_t layer, KvCache& kv,
                      ForwardScratch& s, const HeadsFn* prepare_heads, int idx, int num) const;
  // The sparse feed-forward block of layer L for the first `num_tokens` rows of s.xn_: writes
  // the weighted sum of each token's experts to s.tmp_. Each token's sum runs over its experts in
  // ascending expert order, whatever the batch, so results do not depend on batching.
  void moe_ffn(const LayerWeights& L, int64_t num_tokens, ForwardScratch& s,
               ThreadPool& pool) const;

  const HParams& hp_;
  const Weights& w_;
  Rope rope_;
  Rope rope_local_;  // sliding-window layers (a different base in some families)
  // Whether a single token can run as one token region: every layer dense, and its matmuls and the
  // output projection on panels that share regions.
  bool token_region_ = false;
};

}  // namespace inferd::model

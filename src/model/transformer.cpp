#include "model/transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>

#include "backend/cpu/type_ops.h"
#include "backend/cpu/vec_ops.h"
#include "base/check.h"
#include "base/finite.h"
#include "model/norm.h"

namespace inferd::model {
namespace {

using backend::cpu::matmul;
using backend::cpu::MatmulTarget;
using backend::cpu::TokenRegion;

HParams without_scaling(HParams hp) {
  hp.rope_scaling = RopeScaling::kNone;
  hp.rope_scale_factor = 1.0f;
  return hp;
}

// Rows of a run of cached keys or values that attention asks for ahead: all of a short run (a
// scattered block of 16 positions), the start of a longer one.
constexpr int64_t kPrefetchRows = 16;

// Asks for the cache lines of [p, p + bytes) (a hint: it never faults).
void prefetch_lines(const uint8_t* p, size_t bytes) {
  constexpr uintptr_t kLine = 64;
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + bytes;
  for (uintptr_t a = reinterpret_cast<uintptr_t>(p) & ~(kLine - 1); a < end; a += kLine)
    __builtin_prefetch(reinterpret_cast<const void*>(a));
}

// Runs fn(b) for every token b of the batch, spread over the pool.
template <typename Fn>
void for_each_token(ThreadPool& pool, int64_t num_tokens, Fn&& fn) {
  if (num_tokens == 1) {
    fn(0);
    return;
  }
  pool.run([&](int idx, int num) {
    auto [begin, end] = ThreadPool::split(num_tokens, idx, num);
    for (int64_t b = begin; b < end; ++b) fn(b);
  });
}

// Runs fn(b, begin, end) on element ranges [begin, end) of the n elements of every token b of
// the batch: a single token's elements are split over the pool (in multiples of 64), several
// tokens are spread over it whole. For elementwise work, whose results do not depend on the split.
template <typename Fn>
void for_each_token_range(ThreadPool& pool, int64_t num_tokens, int64_t n, Fn&& fn) {
  if (num_tokens > 1 || pool.num_threads() == 1) {
    for_each_token(pool, num_tokens, [&](int64_t b) { fn(b, 0, n); });
    return;
  }
  pool.run([&](int idx, int num) {
    const auto [begin, end] = ThreadPool::split(n, idx, num, 64);
    if (begin < end) fn(0, begin, end);
  });
}

// The attention kernels of one KV-cache row type, over n rows `stride` bytes apart for `heads`
// query heads (VecOps::scores_f16 and weighted_sum_f16 state the contracts).
struct KvRowKernels {
  backend::DType type;
  void (*store)(const backend::cpu::VecOps& vec, const float* src, uint8_t* dst, int64_t n);
  void (*scores)(const backend::cpu::VecOps& vec, const float* q, int64_t q_stride, int heads,
                 const uint8_t* rows, size_t stride, int64_t n, int64_t d, float* out,
                 int64_t out_stride);
  void (*weighted_sum)(const backend::cpu::VecOps& vec, const float* p, int64_t p_stride, int heads,
                       const uint8_t* rows, size_t stride, int64_t n, int64_t d, float* y,
                       int64_t y_stride);
};

constexpr KvRowKernels kKvRowKernels[] = {
    {backend::DType::kF16,
     [](const backend::cpu::VecOps& vec, const float* src, uint8_t* dst, int64_t n) {
       vec.f32_to_f16(src, reinterpret_cast<f16_t*>(dst), n);
     },
     [](const backend::cpu::VecOps& vec, const float* q, int64_t q_stride, int heads,
        const uint8_t* rows, size_t stride, int64_t n, int64_t d, float* out, int64_t out_stride) {
       vec.scores_f16(q, q_stride, heads, rows, stride, n, d, out, out_stride);
     },
     [](const backend::cpu::VecOps& vec, const float* p, int64_t p_stride, int heads,
        const uint8_t* rows, size_t stride, int64_t n, int64_t d, float* y, int64_t y_stride) {
       vec.weighted_sum_f16(p, p_stride, heads, rows, stride, n, d, y, y_stride);
     }},
    {backend::DType::kQ8_0,
     [](const backend::cpu::VecOps&, const float* src, uint8_t* dst, int64_t n) {
       backend::cpu::type_ops(backend::DType::kQ8_0).from_float(src, dst, n);
     },
     [](const backend::cpu::VecOps& vec, const float* q, int64_t q_stride, int heads,
        const uint8_t* rows, size_t stride, int64_t n, int64_t d, float* out, int64_t out_stride) {
       for (int h = 0; h < heads; ++h)
         for (int64_t j = 0; j < n; ++j)
           out[h * out_stride + j] = vec.dot_f32_q8_0(
               q + h * q_stride, reinterpret_cast<const backend::BlockQ8_0*>(rows + j * stride), d);
     },
     [](const backend::cpu::VecOps& vec, const float* p, int64_t p_stride, int heads,
        const uint8_t* rows, size_t stride, int64_t n, int64_t d, float* y, int64_t y_stride) {
       for (int h = 0; h < heads; ++h)
         for (int64_t j = 0; j < n; ++j)
           vec.axpy_q8_0(p[h * p_stride + j],
                         reinterpret_cast<const backend::BlockQ8_0*>(rows + j * stride),
                         y + h * y_stride, d);
     }},
};

// REQUIRES KvCache::check_type accepted `type`.
const KvRowKernels& kv_row_kernels(backend::DType type) {
  for (const KvRowKernels& k : kKvRowKernels)
    if (k.type == type) return k;
  INFERD_CHECK_MSG(false, "no kernels for this KV-cache type");
  __builtin_unreachable();
}

void add_bias(float* x, const float* bias, int64_t n) {
  if (!bias) return;
  for (int64_t i = 0; i < n; ++i) x[i] += bias[i];
}

}  // namespace

ForwardScratch::ForwardScratch(const HParams& hp, int64_t max_batch, int64_t ctx, int num_threads)
    : max_batch_(max_batch), ctx_(ctx) {
  const auto f32 = [&](int64_t per_token) {
    return static_cast<size_t>(max_batch * per_token) * sizeof(float);
  };
  // A single token's residual stream and matmul inputs have a row per thread (see forward).
  const auto rows = [&](int64_t per_token) {
    return static_cast<size_t>(std::max<int64_t>(max_batch, num_threads) * per_token) *
           sizeof(float);
  };
  x_.resize(rows(hp.n_embd));
  xn_.resize(rows(std::max(hp.n_embd, hp.attn_out_dim())));
  q_.resize(f32(hp.q_dim()));
  k_.resize(f32(hp.kv_dim()));
  v_.resize(f32(hp.v_dim()));
  att_.resize(f32(hp.attn_out_dim()));
  tmp_.resize(f32(hp.n_embd));
  const int64_t ff = std::max(hp.n_ff, hp.has_moe_layers() ? hp.n_ff_expert : 0);
  gate_.resize(f32(ff));
  up_.resize(f32(ff));
  if (hp.has_moe_layers()) {
    moe_logits_.resize(f32(hp.n_expert));
    moe_x_.resize(f32(hp.n_embd));
    moe_y_.resize(f32(hp.n_embd));
    moe_ = std::make_unique<MoeRouting>(max_batch, hp.n_expert, hp.n_expert_used);
  }
  rope_cs_.resize(f32(hp.n_rot));
  rope_cs_local_.resize(f32(hp.n_rot));
  head_dim_ = hp.head_dim_k;
  scores_.resize(static_cast<size_t>(num_threads * scores_per_thread()) * sizeof(float));
  matmul_.reserve(max_batch, std::max({hp.n_embd, ff, hp.attn_out_dim()}), num_threads);
}

Transformer::Transformer(const HParams& hp, const Weights& w)
    : hp_(hp),
      w_(w),
      rope_(hp, hp.rope_base, w.rope_freq_factors),
      rope_local_(hp.arch->local_rope_base > 0 ? without_scaling(hp) : hp, hp.rope_base_local,
                  hp.arch->local_rope_base > 0 ? nullptr : w.rope_freq_factors) {
  // Every layer is dense, and its matmuls and the output projection share panel regions.
  const auto panels = [](std::initializer_list<MatrixRef> ws) {
    std::vector<MatmulTarget> targets;
    for (const MatrixRef& w : ws) targets.push_back({w});
    return backend::cpu::runs_in_token_region(targets);
  };
  token_region_ = panels({w.output});
  for (int64_t il = 0; il < hp.n_layer && token_region_; ++il) {
    const LayerWeights& L = w.layers[il];
    token_region_ = !hp.is_moe_layer(il) && panels({L.wq, L.wk, L.wv}) && panels({L.wo}) &&
                    panels({L.w_gate, L.w_up}) && panels({L.w_down});
  }
}

Status Transformer::forward(std::span<const BatchToken> batch, KvCache& kv, ForwardScratch& s,
                            ThreadPool& pool, float* logits, float* embeddings) const {
  const int64_t B = static_cast<int64_t>(batch.size());
  if (B == 0) return {};
  if (B > s.max_batch_)
    return invalid_argument("batch of {} tokens exceeds the maximum {}", B, s.max_batch_);
  for (const BatchToken& t : batch) {
    if (t.token < 0 || t.token >= hp_.n_vocab)
      return invalid_argument("token id {} is outside the vocabulary [0, {})", t.token,
                              hp_.n_vocab);
    if (t.seq < 0 || t.seq >= kv.max_seqs())
      return out_of_range("sequence {} is outside the {} sequences of the cache", t.seq,
                          kv.max_seqs());
    if (t.pos < 0 || t.pos >= kv.capacity(t.seq) || t.pos >= s.ctx_)
      return out_of_range("position {} is outside the context of {} tokens", t.pos,
                          std::min(kv.capacity(t.seq), s.ctx_));
  }

  const int64_t E = hp_.n_embd, F = hp_.n_ff;
  float* x = s.x_.as<float>();
  float* xn = s.xn_.as<float>();
  float* q = s.q_.as<float>();
  float* k = s.k_.as<float>();
  float* v = s.v_.as<float>();
  float* att = s.att_.as<float>();
  float* tmp = s.tmp_.as<float>();
  float* gate = s.gate_.as<float>();
  float* up = s.up_.as<float>();
  float* cs = s.rope_cs_.as<float>();
  float* cs_local = s.rope_cs_local_.as<float>();
  const bool distinct_local_rope = hp_.arch->local_rope_base > 0;

  // A single token on several threads keeps a copy of its residual stream per thread (row t of
  // x, its matmul inputs row t of xn): every thread updates and normalises its own
  // copy at the start of the next matmul's region (matmul_row, gated_ffn_row), so the threads
  // exchange only the matmul outputs, and no thread waits while another does the elementwise work.
  // Every copy gets the same operations, so they stay identical; thread 0's is the token's. A batch
  // has a row per token, updated between regions.
  const bool per_thread = B == 1 && pool.num_threads() > 1;
  const int copies = per_thread ? pool.num_threads() : 1;
  // Such a token whose KV heads divide evenly among the threads: each thread prepares and attends
  // with its own heads.
  const bool own_heads = per_thread && hp_.n_head_kv % pool.num_threads() == 0;
  // Such a token whose layers have panels throughout (and own_heads) runs its whole forward pass as
  // one token region (matmul.h): the threads meet at a barrier after each step instead of starting
  // a parallel region for every matmul and for attention (five a layer). The steps below take the
  // thread's TokenRegion there, null otherwise.
  const bool one_region =
      own_heads && token_region_ && batch[0].want_logits && !batch[0].want_embedding;
  // The input rows of a single token's matmul region: thread t runs make(0, its x row, its input
  // row), the rows `stride` floats apart from `copies_in`.
  const auto row_input = [&](auto&& make, float* copies_in, int64_t stride) {
    return [&make, copies_in, stride, x, E](int t) {
      float* row = copies_in + t * stride;
      make(0, x + t * E, row);
      return static_cast<const float*>(row);
    };
  };
  // Runs make(b, x row, input row) to produce every token's input of `targets` (the input rows
  // `stride` floats apart from `in`), then the matmul.
  const auto stage = [&](TokenRegion* region, auto&& make, std::span<const MatmulTarget> targets,
                         float* in, int64_t stride) {
    if (region) {
      float* row = in + region->idx() * stride;
      make(0, x + region->idx() * E, row);
      backend::cpu::matmul_row(targets, row, *region);
      return;
    }
    if (per_thread) {
      backend::cpu::matmul_row(targets, row_input(make, in, stride), pool, s.matmul_);
      return;
    }
    for_each_token(pool, B, [&](int64_t b) { make(b, x + b * E, in + b * stride); });
    backend::cpu::matmul(targets, in, B, pool, s.matmul_);
  };
  // The same for a consumer other than a matmul, which reads the inputs from xn (a single
  // token's from thread 0's row).
  const auto prepare_inputs = [&](auto&& make) {
    if (per_thread) {
      for (int t = 0; t < copies; ++t) make(0, x + t * E, xn + t * E);
      return;
    }
    for_each_token(pool, B, [&](int64_t b) { make(b, x + b * E, xn + b * E); });
  };

  const auto& embd_ops = backend::cpu::type_ops(w_.token_embd.type);
  const float embd_scale = hp_.arch->embedding_scale ? std::sqrt(static_cast<float>(E)) : 1.0f;
  for_each_token(pool, B, [&](int64_t b) {
    const auto* row =
        static_cast<const uint8_t*>(w_.token_embd.data) + batch[b].token * w_.token_embd.row_bytes;
    embd_ops.to_float(row, x + b * E, E);
    if (embd_scale != 1.0f)
      for (int64_t i = 0; i < E; ++i) x[b * E + i] *= embd_scale;
    for (int t = 1; t < copies; ++t) std::memcpy(x + t * E, x, E * sizeof(float));
    rope_.angles(batch[b].pos, cs + b * hp_.n_rot);
    if (distinct_local_rope) rope_local_.angles(batch[b].pos, cs_local + b * hp_.n_rot);
  });

  // x += t (normalised by `norm` into `out` first when there is one).
  const auto add_residual = [&](const float* t, const float* norm, float* xb, float* out) {
    if (norm) {
      rms_norm(t, norm, E, hp_.norm_eps, out);
      t = out;
    }
    for (int64_t i = 0; i < E; ++i) xb[i] += t[i];
  };

  const auto& vec = backend::cpu::vec_ops();
  const KvRowKernels& rows = kv_row_kernels(kv.type());
  const auto layers = [&](TokenRegion* region) {
    for (int64_t il = 0; il < hp_.n_layer; ++il) {
      const LayerWeights& L = w_.layers[il];
      const LayerWeights* prev = il > 0 ? &w_.layers[il - 1] : nullptr;
      const bool local = hp_.is_sliding_layer(il);
      const Rope& rope = local ? rope_local_ : rope_;
      const float* angles = local && distinct_local_rope ? cs_local : cs;

      // Attention block, after the previous layer's feed-forward residual.
      const MatmulTarget qkv[] = {{L.wq, q}, {L.wk, k}, {L.wv, v}};
      stage(
          region,
          [&](int64_t b, float* xb, float* in) {
            if (prev) add_residual(tmp + b * E, prev->post_ffn_norm, xb, in);
            rms_norm(xb, L.attn_norm, E, hp_.norm_eps, in);
          },
          qkv, xn, E);
      // Bias, norm and RoPE of token b's key heads [g0, g1) and of their query heads, then those
      // keys and values into the cache.
      const auto prepare_heads = [&](int64_t b, int64_t g0, int64_t g1) {
        const int64_t dk = hp_.head_dim_k, dv = hp_.head_dim_v, group = hp_.n_head / hp_.n_head_kv;
        const int64_t h0 = g0 * group, nq = (g1 - g0) * group, nk = g1 - g0;
        const auto part = [](const float* bias, int64_t at) { return bias ? bias + at : nullptr; };
        float* qb = q + b * hp_.q_dim() + h0 * dk;
        float* kb = k + b * hp_.kv_dim() + g0 * dk;
        float* vb = v + b * hp_.v_dim() + g0 * dv;
        add_bias(qb, part(L.bq, h0 * dk), nq * dk);
        add_bias(kb, part(L.bk, g0 * dk), nk * dk);
        add_bias(vb, part(L.bv, g0 * dv), nk * dv);
        if (L.q_norm) {
          for (int64_t h = 0; h < nq; ++h)
            rms_norm(qb + h * dk, L.q_norm, dk, hp_.norm_eps, qb + h * dk);
          for (int64_t h = 0; h < nk; ++h)
            rms_norm(kb + h * dk, L.k_norm, dk, hp_.norm_eps, kb + h * dk);
        }
        rope.apply(qb, nq, dk, angles + b * hp_.n_rot);
        rope.apply(kb, nk, dk, angles + b * hp_.n_rot);
        for (int64_t g = g0; g < g1; ++g) {
          rows.store(vec, kb + (g - g0) * dk, kv.k(il, batch[b].seq, batch[b].pos, g), dk);
          rows.store(vec, vb + (g - g0) * dv, kv.v(il, batch[b].seq, batch[b].pos, g), dv);
        }
      };
      // With own_heads, each thread prepares the heads it attends with, inside the attention
      // region.
      const auto own = [&](int64_t g0, int64_t g1) { prepare_heads(0, g0, g1); };
      const HeadsFn prepare_own = own;
      if (region) {
        attention_part(batch, il, kv, s, &prepare_own, region->idx(), region->num());
        region->sync();
      } else if (own_heads) {
        attention(batch, il, kv, s, pool, &prepare_own);
      } else {
        for_each_token(pool, B, [&](int64_t b) { prepare_heads(b, 0, hp_.n_head_kv); });
        attention(batch, il, kv, s, pool, nullptr);
      }
      const MatmulTarget wo[] = {{L.wo, tmp}};
      if (region) {
        backend::cpu::matmul_row(wo, att, *region);
      } else {
        backend::cpu::matmul(wo, att, B, pool, s.matmul_);
      }

      // Feed-forward block, after the attention residual.
      const auto ffn_input = [&](int64_t b, float* xb, float* in) {
        add_residual(tmp + b * E, L.post_attn_norm, xb, in);
        rms_norm(xb, L.ffn_norm, E, hp_.norm_eps, in);
      };
      if (hp_.is_moe_layer(il)) {  // never in a token region (token_region_)
        prepare_inputs(ffn_input);
        moe_ffn(L, B, s, pool);
        continue;
      }
      const MatmulTarget gate_up[] = {{L.w_gate, gate}, {L.w_up, up}};
      const MatmulTarget down[] = {{L.w_down, tmp}};
      const auto act = [&](float* g, const float* u, int64_t n) {
        if (hp_.arch->activation == FfnActivation::kSilu)
          vec.silu_mul(g, u, n);
        else
          gelu_tanh_mul(g, u, n);
      };
      if (region) {
        float* in = xn + region->idx() * E;
        ffn_input(0, x + region->idx() * E, in);
        backend::cpu::gated_ffn_row(gate_up[0], gate_up[1], down[0], in, act, *region);
      } else if (per_thread) {
        backend::cpu::gated_ffn_row(gate_up[0], gate_up[1], down[0], row_input(ffn_input, xn, E),
                                    act, pool, s.matmul_);
      } else {
        stage(nullptr, ffn_input, gate_up, xn, E);
        // The activation, in place (`in` is the token's gate row).
        stage(
            nullptr, [&](int64_t b, float*, float* in) { act(in, up + b * F, F); }, down, gate, F);
      }
    }
  };
  // The last layer's feed-forward residual (into `in`, which it then overwrites).
  const auto last_residual = [&](int64_t b, float* xb, float* in) {
    add_residual(tmp + b * E, w_.layers[hp_.n_layer - 1].post_ffn_norm, xb, in);
  };

  // Output: final norm, then hidden states and the vocabulary projection for the tokens that
  // want them.
  int64_t num_out = 0, num_embd = 0;
  if (one_region) {
    const MatmulTarget output[] = {{w_.output, logits}};
    backend::cpu::run_token_region(pool, s.matmul_, [&](TokenRegion& region) {
      layers(&region);
      const auto final_input = [&](int64_t b, float* xb, float* in) {
        last_residual(b, xb, in);
        rms_norm(xb, w_.output_norm, E, hp_.norm_eps, in);
      };
      stage(&region, final_input, output, xn, E);
    });
    num_out = 1;  // its normalised row is thread 0's, row 0 of xn
  } else {
    layers(nullptr);
    for_each_token(pool, B, [&](int64_t b) { last_residual(b, x + b * E, xn + b * E); });
    for (int64_t b = 0; b < B; ++b) {
      if (!batch[b].want_logits && !batch[b].want_embedding) continue;
      float* normed = xn + num_out * E;
      rms_norm(x + b * E, w_.output_norm, E, hp_.norm_eps, normed);
      if (batch[b].want_embedding && embeddings)
        std::memcpy(embeddings + (num_embd++) * E, normed, E * sizeof(float));
      if (batch[b].want_logits) ++num_out;
    }
    if (num_out == 0) return {};
    matmul(w_.output, xn, num_out, logits, pool, s.matmul_);
  }
  if (hp_.final_softcap > 0) soft_cap(logits, num_out * hp_.n_vocab, hp_.final_softcap);
  // A hidden state that went non-finite (overflow, damaged weights) gives NaN logits, which the
  // engine reports as an error: int8-quantized activations would otherwise turn the NaN into
  // ordinary values and the logits into noise.
  for (int64_t o = 0; o < num_out; ++o)
    if (!all_finite(std::span<const float>(xn + o * E, static_cast<size_t>(E))))
      std::fill_n(logits + o * hp_.n_vocab, hp_.n_vocab, std::numeric_limits<float>::quiet_NaN());
  return {};
}

// Experts are SwiGLU blocks (Qwen3-MoE); each expert runs once on the tokens routed to it.
void Transformer::moe_ffn(const LayerWeights& L, int64_t B, ForwardScratch& s,
                          ThreadPool& pool) const {
  const int64_t E = hp_.n_embd, F = hp_.n_ff_expert, X = hp_.n_expert, K = hp_.n_expert_used;
  MoeRouting& routing = *s.moe_;
  const float* xn = s.xn_.as<float>();
  float* router_logits = s.moe_logits_.as<float>();
  matmul(L.router, xn, B, router_logits, pool, s.matmul_);
  for_each_token(pool, B, [&](int64_t b) {
    moe_route_token(router_logits + b * X, X, K, hp_.expert_weights_norm,
                    routing.token_experts() + b * K, routing.token_weights() + b * K);
  });
  routing.group_by_expert(B);

  float* out = s.tmp_.as<float>();
  std::memset(out, 0, static_cast<size_t>(B * E) * sizeof(float));
  float* xg = s.moe_x_.as<float>();
  float* y = s.moe_y_.as<float>();
  float* gate = s.gate_.as<float>();
  float* up = s.up_.as<float>();
  for (int64_t e = 0; e < X; ++e) {
    const int64_t first = routing.begin(e), n = routing.end(e) - first;
    if (n == 0) continue;
    const int32_t* tokens = routing.entry_tokens() + first;
    const float* weights = routing.entry_weights() + first;
    for_each_token(pool, n, [&](int64_t i) {
      std::memcpy(xg + i * E, xn + tokens[i] * E, static_cast<size_t>(E) * sizeof(float));
    });
    const backend::cpu::MatmulTarget gate_up[] = {{L.expert_gate[e], gate}, {L.expert_up[e], up}};
    matmul(gate_up, xg, n, pool, s.matmul_);
    for_each_token_range(pool, n, F, [&](int64_t i, int64_t i0, int64_t i1) {
      backend::cpu::vec_ops().silu_mul(gate + i * F + i0, up + i * F + i0, i1 - i0);
    });
    matmul(L.expert_down[e], gate, n, y, pool, s.matmul_);
    // A token occurs at most once per expert, so the rows written here are distinct.
    for_each_token(pool, n, [&](int64_t i) {
      float* o = out + tokens[i] * E;
      const float* yi = y + i * E;
      const float w = weights[i];
      for (int64_t j = 0; j < E; ++j) o[j] += w * yi[j];
    });
  }
}

// Attention numerics follow the common reference implementation of GGUF models: the query is
// rounded to f16 like the cached keys (after the attention scale for families that scale the
// query), scores and the softmax run in f32 with a double-precision sum, and probabilities are
// rounded to f16 before weighting the f16 values. Matching these roundings keeps the logits of
// quantized models within a few hundredths of that implementation's; each rounding changes a
// value by at most 2^-11 relative.
void Transformer::attention(std::span<const BatchToken> batch, int64_t il, KvCache& kv,
                            ForwardScratch& s, ThreadPool& pool,
                            const HeadsFn* prepare_heads) const {
  pool.run([&](int idx, int num) { attention_part(batch, il, kv, s, prepare_heads, idx, num); });
}

void Transformer::attention_part(std::span<const BatchToken> batch, int64_t il, KvCache& kv,
                                 ForwardScratch& s, const HeadsFn* prepare_heads, int idx,
                                 int num) const {
  const int64_t B = static_cast<int64_t>(batch.size());
  const int64_t dk = hp_.head_dim_k, dv = hp_.head_dim_v;
  const int64_t group = hp_.n_head / hp_.n_head_kv;
  const int64_t window = hp_.is_sliding_layer(il) ? hp_.sliding_window : 0;
  const int64_t per_thread = s.scores_per_thread();
  const float* q = s.q_.as<float>();
  float* att = s.att_.as<float>();
  const auto& vec = backend::cpu::vec_ops();
  const float cap = hp_.attn_softcap, inv_cap = cap > 0 ? 1.0f / cap : 0.0f;
  const float query_scale = hp_.arch->scale_query ? hp_.attn_scale : 1.0f;
  const float score_scale = hp_.arch->scale_query ? 1.0f : hp_.attn_scale;
  const KvRowKernels& rows = kv_row_kernels(kv.type());
  // A KV head's keys (values) at the positions of one block are one run of rows this far apart.
  const size_t k_stride = kv.key_head_bytes(), v_stride = kv.value_head_bytes();

  // Work item: up to kAttnHeadsPerItem query heads of one token that share a KV head, so that
  // their cached rows are read and converted once for all of them.
  const int64_t chunks = (group + kAttnHeadsPerItem - 1) / kAttnHeadsPerItem;
  const int64_t items_per_token = hp_.n_head_kv * chunks;
  const int64_t row_stride = s.score_row_stride();
  float* scores = s.scores_.as<float>() + idx * per_thread;  // [heads][row_stride]
  float* qh = scores + kAttnHeadsPerItem * row_stride;       // [heads][dk] rounded queries
  auto [begin, end] = ThreadPool::split(B * items_per_token, idx, num);
  if (prepare_heads) {  // a single token: whole KV heads, items g * chunks .. (g + 1) * chunks
    const auto [g0, g1] = ThreadPool::split(hp_.n_head_kv, idx, num);
    (*prepare_heads)(g0, g1);
    begin = g0 * chunks;
    end = g1 * chunks;
  }
  for (int64_t item = begin; item < end; ++item) {
    const int64_t b = item / items_per_token, r = item % items_per_token, g = r / chunks;
    const int64_t h0 = g * group + (r % chunks) * kAttnHeadsPerItem;
    const int nh = static_cast<int>(std::min<int64_t>(kAttnHeadsPerItem, (g + 1) * group - h0));
    const BatchToken& t = batch[b];
    const int64_t first = window > 0 ? std::max<int64_t>(0, t.pos - window + 1) : 0;
    const int64_t n = t.pos - first + 1;
    // A head's rows at consecutive positions follow each other within a KV block and across
    // blocks of consecutive ids: the run of positions first + j .. first + j + count - 1
    // starts at pos = first + j.
    const auto run_length = [&](int64_t j) { return kv.run_positions(t.seq, first + j, n - j); };
    const auto for_each_run = [&](auto&& fn) {
      for (int64_t j = 0; j < n;) {
        const int64_t count = run_length(j);
        fn(j, count, first + j);
        j += count;
      }
    };
    // In a decode step the cached rows have usually left the cache (the weights streamed since
    // the previous step displace them). The hardware prefetchers follow a long run, but not
    // the jump to the next one: the start of each run's keys and values is asked for one run
    // ahead, the first run's before the query is prepared.
    const auto prefetch_run = [&](int64_t j) {
      if (j >= n) return;
      const int64_t rows = kv.run_positions(t.seq, first + j, std::min(n - j, kPrefetchRows));
      prefetch_lines(kv.k(il, t.seq, first + j, g), rows * k_stride);
      prefetch_lines(kv.v(il, t.seq, first + j, g), rows * v_stride);
    };
    prefetch_run(0);
    const float* qsrc = q + b * hp_.q_dim() + h0 * dk;
    for (int64_t i = 0; i < nh * dk; ++i) qh[i] = qsrc[i] * query_scale;
    vec.round_to_f16(qh, nh * dk);
    for_each_run([&](int64_t j, int64_t count, int64_t pos) {
      prefetch_run(j + count);
      rows.scores(vec, qh, dk, nh, kv.k(il, t.seq, pos, g), k_stride, count, dk, scores + j,
                  row_stride);
    });
    for (int hh = 0; hh < nh; ++hh) {
      float* sc = scores + hh * row_stride;
      if (cap > 0)
        for (int64_t j = 0; j < n; ++j) sc[j] = cap * std::tanh(sc[j] * score_scale * inv_cap);
      const float max_score = vec.scale_max(sc, n, cap > 0 ? 1.0f : score_scale);
      const double sum = vec.exp_shifted(sc, n, max_score);
      const float inv_sum = static_cast<float>(1.0 / sum);
      for (int64_t j = 0; j < n; ++j) sc[j] *= inv_sum;
      vec.round_to_f16(sc, n);
    }
    float* out = att + b * hp_.attn_out_dim() + h0 * dv;
    std::memset(out, 0, nh * dv * sizeof(float));
    for_each_run([&](int64_t j, int64_t count, int64_t pos) {
      rows.weighted_sum(vec, scores + j, row_stride, nh, kv.v(il, t.seq, pos, g), v_stride, count,
                        dv, out, dv);
    });
  }
}

}  // namespace inferd::model

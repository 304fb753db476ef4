#include "model/weights.h"

#include <map>

#include <fmt/format.h>

#include "backend/cpu/blocks.h"
#include "backend/cpu/panel_ops.h"
#include "backend/cpu/type_ops.h"
#include "base/check.h"

namespace inferd::model {
namespace {

using backend::DType;
using format::GgufTensorInfo;


// Collects f32 copies of vectors first as offsets, then fixes pointers once the buffer exists.
class VectorArena {
 public:
  // Returns an index; pointer() resolves it after finish().
  Result<int64_t> add(const GgufTensorInfo& t, int64_t expect_len) {
    if (t.num_dims != 1 || t.dims[0] != expect_len)
      return invalid_argument("tensor '{}' has shape {}, expected [{}]", t.name, t.shape_string(), expect_len);
    if (!backend::dtype_info(t.type).computable || !backend::cpu::type_ops(t.type).to_float)
      return unsupported("tensor '{}' has type {} which cannot be used for a vector", t.name,
                         backend::dtype_name(t.type));
    items_.push_back({&t, offset_});
    offset_ += (expect_len + 15) / 16 * 16;
    return items_.back().offset;
  }
  void finish(AlignedBuffer* buf) {
    buf->resize(static_cast<size_t>(offset_) * sizeof(float));
    for (const auto& it : items_)
      backend::cpu::type_ops(it.t->type).to_float(it.t->data, buf->as<float>() + it.offset, it.t->dims[0]);
  }

 private:
  struct Item {
    const GgufTensorInfo* t;
    int64_t offset;
  };
  std::vector<Item> items_;
  int64_t offset_ = 0;
};

class Binder {
 public:
  Binder(const TensorTable& f, const HParams& hp) : f_(f), hp_(hp) {}

  Result<const GgufTensorInfo*> tensor(const std::string& name, bool required) {
    const GgufTensorInfo* t = f_.find_tensor(name);
    if (!t && required) return not_found("tensor '{}' is missing", name);
    return t;
  }

  // A [rows x cols] matrix (GGUF dims {cols, rows}).
  Result<MatrixRef> matrix(const std::string& name, int64_t rows, int64_t cols) {
    INFERD_ASSIGN_OR_RETURN(const GgufTensorInfo* t, tensor(name, true));
    return as_matrix(*t, rows, cols);
  }

  Result<MatrixRef> as_matrix(const GgufTensorInfo& t, int64_t rows, int64_t cols) {
    if (t.num_dims != 2 || t.dims[0] != cols || t.dims[1] != rows)
      return invalid_argument("tensor '{}' has shape {}, expected [{}, {}]", t.name, t.shape_string(),
                              cols, rows);
    const auto& info = backend::dtype_info(t.type);
    if (!info.computable)
      return unsupported("tensor '{}' has type {}, which inferd cannot compute with yet", t.name, info.name);
    MatrixRef m{t.type, rows, cols, t.data, static_cast<size_t>(backend::dtype_bytes(t.type, cols))};
    return m;
  }

  // The `n` experts' [rows x cols] matrices of layer `il`: slices of the stacked tensor
  // "blk.il.<base>_exps.weight" (dims {cols, rows, n}) when present, else the per-expert tensors
  // "blk.il.<base>.<e>.weight".
  Status experts(int64_t il, const char* base, int64_t n, int64_t rows, int64_t cols,
                 std::vector<MatrixRef>* out) {
    out->clear();
    const std::string stacked_name = fmt::format("blk.{}.{}_exps.weight", il, base);
    if (const GgufTensorInfo* t = f_.find_tensor(stacked_name)) {
      if (t->num_dims != 3 || t->dims[0] != cols || t->dims[1] != rows || t->dims[2] != n)
        return invalid_argument("tensor '{}' has shape {}, expected [{}, {}, {}]", t->name,
                                t->shape_string(), cols, rows, n);
      GgufTensorInfo first = *t;
      first.num_dims = 2;
      first.dims[2] = 1;
      INFERD_ASSIGN_OR_RETURN(MatrixRef m, as_matrix(first, rows, cols));
      for (int64_t e = 0; e < n; ++e) {
        out->push_back(m);
        out->back().data = static_cast<const uint8_t*>(m.data) + e * rows * m.row_bytes;
      }
      return Status::ok_status();
    }
    if (!f_.find_tensor(fmt::format("blk.{}.{}.0.weight", il, base)))
      return not_found("layer {} is sparse but has no experts: neither '{}' nor '{}' exists", il,
                       stacked_name, fmt::format("blk.{}.{}.0.weight", il, base));
    for (int64_t e = 0; e < n; ++e) {
      INFERD_ASSIGN_OR_RETURN(MatrixRef m,
                              matrix(fmt::format("blk.{}.{}.{}.weight", il, base, e), rows, cols));
      out->push_back(m);
    }
    return Status::ok_status();
  }

  // Optional vector: index into the arena, or -1.
  Result<int64_t> vector(const std::string& name, int64_t len, bool required) {
    INFERD_ASSIGN_OR_RETURN(const GgufTensorInfo* t, tensor(name, required));
    if (!t) return int64_t{-1};
    return arena.add(*t, len);
  }

  VectorArena arena;

 private:
  const TensorTable& f_;
  const HParams& hp_;
};

MatrixRef row_slice(const MatrixRef& m, int64_t first_row, int64_t num_rows) {
  MatrixRef s = m;
  s.rows = num_rows;
  s.data = static_cast<const uint8_t*>(m.data) + first_row * m.row_bytes;
  return s;
}

uint64_t matrix_bytes(const MatrixRef& m) { return static_cast<uint64_t>(m.rows) * m.row_bytes; }

}  // namespace

Result<Weights> Weights::bind(TensorTable& f, const HParams& hp, PackedTensors packed) {
  Weights w;
  Binder b(f, hp);
  const ArchSpec& arch = *hp.arch;
  const int64_t E = hp.n_embd;

  INFERD_ASSIGN_OR_RETURN(w.token_embd, b.matrix("token_embd.weight", hp.n_vocab, E));
  INFERD_ASSIGN_OR_RETURN(const GgufTensorInfo* out, b.tensor("output.weight", false));
  if (out) {
    INFERD_ASSIGN_OR_RETURN(w.output, b.as_matrix(*out, hp.n_vocab, E));
  } else {
    w.output = w.token_embd;  // tied embeddings
  }
  INFERD_ASSIGN_OR_RETURN(int64_t out_norm, b.vector("output_norm.weight", E, true));
  INFERD_ASSIGN_OR_RETURN(int64_t freqs, b.vector("rope_freqs.weight", hp.n_rot / 2, false));
  if (freqs < 0 && hp.rope_scaling == RopeScaling::kLongRope) {
    // GGUF LongRoPE: the long factors when the model's context exceeds the original one.
    const char* name = hp.n_ctx_train > hp.rope_orig_ctx ? "rope_factors_long.weight" : "rope_factors_short.weight";
    INFERD_ASSIGN_OR_RETURN(freqs, b.vector(name, hp.n_rot / 2, true));
  }

  struct LayerIdx {
    int64_t attn_norm, bq, bk, bv, q_norm, k_norm, post_attn_norm, ffn_norm, post_ffn_norm;
  };
  std::vector<LayerIdx> idx(hp.n_layer);
  w.layers.resize(hp.n_layer);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    LayerWeights& L = w.layers[il];
    LayerIdx& I = idx[il];
    auto name = [&](const char* n) { return fmt::format("blk.{}.{}", il, n); };
    INFERD_ASSIGN_OR_RETURN(I.attn_norm, b.vector(name("attn_norm.weight"), E, true));
    if (arch.fused_qkv) {
      INFERD_ASSIGN_OR_RETURN(MatrixRef qkv, b.matrix(name("attn_qkv.weight"), hp.q_dim() + hp.kv_dim() + hp.v_dim(), E));
      L.wq = row_slice(qkv, 0, hp.q_dim());
      L.wk = row_slice(qkv, hp.q_dim(), hp.kv_dim());
      L.wv = row_slice(qkv, hp.q_dim() + hp.kv_dim(), hp.v_dim());
    } else {
      INFERD_ASSIGN_OR_RETURN(L.wq, b.matrix(name("attn_q.weight"), hp.q_dim(), E));
      INFERD_ASSIGN_OR_RETURN(L.wk, b.matrix(name("attn_k.weight"), hp.kv_dim(), E));
      INFERD_ASSIGN_OR_RETURN(L.wv, b.matrix(name("attn_v.weight"), hp.v_dim(), E));
    }
    INFERD_ASSIGN_OR_RETURN(L.wo, b.matrix(name("attn_output.weight"), E, hp.attn_out_dim()));
    INFERD_ASSIGN_OR_RETURN(I.bq, b.vector(name("attn_q.bias"), hp.q_dim(), arch.qkv_bias));
    INFERD_ASSIGN_OR_RETURN(I.bk, b.vector(name("attn_k.bias"), hp.kv_dim(), arch.qkv_bias));
    INFERD_ASSIGN_OR_RETURN(I.bv, b.vector(name("attn_v.bias"), hp.v_dim(), arch.qkv_bias));
    INFERD_ASSIGN_OR_RETURN(I.q_norm, b.vector(name("attn_q_norm.weight"), hp.head_dim_k, arch.qk_norm));
    INFERD_ASSIGN_OR_RETURN(I.k_norm, b.vector(name("attn_k_norm.weight"), hp.head_dim_k, arch.qk_norm));
    INFERD_ASSIGN_OR_RETURN(I.post_attn_norm, b.vector(name("post_attention_norm.weight"), E, arch.post_norms));
    INFERD_ASSIGN_OR_RETURN(I.ffn_norm, b.vector(name("ffn_norm.weight"), E, true));
    INFERD_ASSIGN_OR_RETURN(I.post_ffn_norm, b.vector(name("post_ffw_norm.weight"), E, arch.post_norms));
    if (hp.is_moe_layer(il)) {
      INFERD_ASSIGN_OR_RETURN(L.router, b.matrix(name("ffn_gate_inp.weight"), hp.n_expert, E));
      const int64_t F = hp.n_ff_expert, X = hp.n_expert;
      INFERD_RETURN_IF_ERROR(b.experts(il, "ffn_gate", X, F, E, &L.expert_gate));
      INFERD_RETURN_IF_ERROR(b.experts(il, "ffn_up", X, F, E, &L.expert_up));
      INFERD_RETURN_IF_ERROR(b.experts(il, "ffn_down", X, E, F, &L.expert_down));
    } else if (arch.fused_gate_up) {
      INFERD_ASSIGN_OR_RETURN(MatrixRef gate_up, b.matrix(name("ffn_up.weight"), 2 * hp.n_ff, E));
      L.w_gate = row_slice(gate_up, 0, hp.n_ff);
      L.w_up = row_slice(gate_up, hp.n_ff, hp.n_ff);
    } else {
      INFERD_ASSIGN_OR_RETURN(L.w_gate, b.matrix(name("ffn_gate.weight"), hp.n_ff, E));
      INFERD_ASSIGN_OR_RETURN(L.w_up, b.matrix(name("ffn_up.weight"), hp.n_ff, E));
    }
    if (!hp.is_moe_layer(il)) {
      INFERD_ASSIGN_OR_RETURN(L.w_down, b.matrix(name("ffn_down.weight"), E, hp.n_ff));
    }
  }

  b.arena.finish(&w.vectors_);
  const float* base = w.vectors_.as<float>();
  auto ptr = [base](int64_t i) { return i < 0 ? nullptr : base + i; };
  w.output_norm = ptr(out_norm);
  w.rope_freq_factors = ptr(freqs);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    LayerWeights& L = w.layers[il];
    const LayerIdx& I = idx[il];
    L.attn_norm = ptr(I.attn_norm);
    L.bq = ptr(I.bq);
    L.bk = ptr(I.bk);
    L.bv = ptr(I.bv);
    L.q_norm = ptr(I.q_norm);
    L.k_norm = ptr(I.k_norm);
    L.post_attn_norm = ptr(I.post_attn_norm);
    L.ffn_norm = ptr(I.ffn_norm);
    L.post_ffn_norm = ptr(I.post_ffn_norm);
    w.bytes_per_token += matrix_bytes(L.wq) + matrix_bytes(L.wk) + matrix_bytes(L.wv) +
                         matrix_bytes(L.wo) + matrix_bytes(L.w_gate) + matrix_bytes(L.w_up) +
                         matrix_bytes(L.w_down);
    if (hp.is_moe_layer(il))
      w.bytes_per_token += matrix_bytes(L.router) +
                           static_cast<uint64_t>(hp.n_expert_used) *
                               (matrix_bytes(L.expert_gate[0]) + matrix_bytes(L.expert_up[0]) +
                                matrix_bytes(L.expert_down[0]));
  }
  w.bytes_per_token += matrix_bytes(w.output) + w.token_embd.row_bytes;
  w.total_bytes = f.tensor_bytes();
  w.pack_panels(f, packed);
  return w;
}

uint64_t Weights::panel_bytes() const {
  uint64_t n = 0;
  for (const AlignedBuffer& p : panels_) n += p.size_bytes();
  return n;
}

void Weights::pack_panels(TensorTable& tensors, PackedTensors packed) {
  // Every matrix, grouped by the tensor its data lies in (row slices of fused tensors and the
  // experts of stacked tensors share one).
  const std::vector<TensorInfo>& all = tensors.tensors();
  std::map<const uint8_t*, size_t> by_start;
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i].data && all[i].size_bytes > 0) by_start.emplace(all[i].data, i);
  auto tensor_of = [&](const MatrixRef& m) {
    const auto* p = static_cast<const uint8_t*>(m.data);
    auto it = by_start.upper_bound(p);
    INFERD_CHECK_MSG(it != by_start.begin(), "matrix outside every tensor");
    --it;
    INFERD_CHECK_MSG(p < it->first + all[it->second].size_bytes, "matrix outside every tensor");
    return it->second;
  };
  // Each tensor's matrices, and the tensors in groups that share one panel buffer: a layer's
  // dense matrices in the order a forward pass reads them (so each region's weights continue
  // where the previous one's ended, on the same huge pages), every expert tensor on its own
  // (a sparse layer reads only a few experts), then the output matrix.
  std::vector<std::vector<MatrixRef*>> slices(all.size());
  std::vector<std::vector<size_t>> groups;
  auto add = [&](MatrixRef* m, bool own_group) {
    if (!m->data) return;  // absent: the router of dense layers
    const size_t t = tensor_of(*m);
    if (slices[t].empty()) {
      if (own_group) groups.emplace_back();
      groups.back().push_back(t);
    }
    slices[t].push_back(m);
  };
  for (LayerWeights& L : layers) {
    groups.emplace_back();
    for (MatrixRef* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down, &L.router})
      add(m, false);
    for (auto* experts : {&L.expert_gate, &L.expert_up, &L.expert_down})
      for (MatrixRef& m : *experts) add(&m, true);
  }
  add(&output, true);
  const size_t embd_idx = tensor_of(token_embd);

  const auto packable = [](const MatrixRef& m) {
    const auto* ops = backend::cpu::panel_ops(m.type);
    return ops && m.cols % ops->group_elems == 0 ? ops : nullptr;
  };
  for (const std::vector<size_t>& group : groups) {
    size_t bytes = 0;
    for (size_t t : group)
      for (const MatrixRef* m : slices[t])
        if (const auto* ops = packable(*m))
          bytes += backend::cpu::panel_matrix_bytes(*ops, m->rows, m->cols);
    if (bytes == 0) continue;
    AlignedBuffer& buf = panels_.emplace_back(bytes);
    size_t offset = 0;
    for (size_t t : group) {
      bool all_packed = true;
      for (MatrixRef* m : slices[t]) {
        const auto* ops = packable(*m);
        if (!ops) {
          all_packed = false;
          continue;
        }
        uint8_t* dst = buf.data() + offset;
        backend::cpu::pack_panels(*ops, m->data, m->rows, m->cols, m->row_bytes, dst);
        m->panels = dst;
        offset += backend::cpu::panel_matrix_bytes(*ops, m->rows, m->cols);
      }
      if (packed == PackedTensors::kRelease && all_packed && t != embd_idx &&
          tensors.release(all[t].name) > 0)
        for (MatrixRef* m : slices[t]) m->data = nullptr;
    }
  }
}

}  // namespace inferd::model

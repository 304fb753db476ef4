#include "reference/plain_transformer.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "backend/cpu/type_ops.h"
#include "format/gguf_file.h"

namespace inferd::testing {
namespace {

using Vec = std::vector<double>;
using Mat = std::vector<Vec>;  // rows

struct Loader {
  const format::GgufFile& f;

  bool has(const std::string& name) const { return f.find_tensor(name) != nullptr; }

  // All elements of a tensor as doubles (row-major: dims[0] fastest).
  Vec flat(const std::string& name) const {
    const auto* t = f.find_tensor(name);
    if (!t) throw std::runtime_error("missing tensor " + name);
    std::vector<float> tmp(t->num_elements());
    const auto& ops = backend::cpu::type_ops(t->type, IsaLevel::kScalar);
    const int64_t row = t->dims[0];
    const size_t row_bytes = backend::dtype_bytes(t->type, row);
    for (int64_t r = 0; r < t->num_rows(); ++r) ops.to_float(t->data + r * row_bytes, tmp.data() + r * row, row);
    return Vec(tmp.begin(), tmp.end());
  }
  Mat matrix(const std::string& name) const {
    const auto* t = f.find_tensor(name);
    Vec v = flat(name);
    Mat m(t->dims[1], Vec(t->dims[0]));
    for (int64_t r = 0; r < t->dims[1]; ++r)
      for (int64_t c = 0; c < t->dims[0]; ++c) m[r][c] = v[r * t->dims[0] + c];
    return m;
  }
  // Matrix `e` of a stacked 3-D tensor (dims {cols, rows, n}).
  Mat expert(const std::string& name, int64_t e) const {
    const auto* t = f.find_tensor(name);
    if (!t) throw std::runtime_error("missing tensor " + name);
    Vec v = flat(name);
    const int64_t rows = t->dims[1], cols = t->dims[0];
    Mat m(rows, Vec(cols));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) m[r][c] = v[(e * rows + r) * cols + c];
    return m;
  }
  double num(const std::string& key, double fallback) const {
    auto r = f.get_float_or(key, fallback);
    return r.ok() ? *r : fallback;
  }
};

Vec matvec(const Mat& m, const Vec& x) {
  Vec y(m.size(), 0.0);
  for (size_t r = 0; r < m.size(); ++r)
    for (size_t c = 0; c < x.size(); ++c) y[r] += m[r][c] * x[c];
  return y;
}

Vec rms_norm(const Vec& x, const Vec& w, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double s = 1.0 / std::sqrt(ss / x.size() + eps);
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * s * w[i];
  return y;
}

// Rotary embedding of one head. neox: pairs (i, i + d/2) as Hugging Face's rotate_half;
// otherwise adjacent pairs (the layout GGUF llama files use after their q/k permutation).
void rope(double* x, int64_t head_dim, int64_t n_rot, double pos, double base, bool neox,
          const Vec* factors) {
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    double theta = pos * std::pow(base, -2.0 * i / n_rot);
    if (factors) theta /= (*factors)[i];
    const int64_t a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
    const double x0 = x[a], x1 = x[b];
    x[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
    x[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
  }
  (void)head_dim;
}

Vec swiglu(const Mat& gate, const Mat& up, const Mat& down, const Vec& h) {
  Vec g = matvec(gate, h);
  const Vec u = matvec(up, h);
  for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
  return matvec(down, g);
}

// Qwen3-MoE's sparse block: softmax over the router's logits, the top `used` experts, their
// probabilities renormalised to sum to 1 when `renormalise`, the weighted sum of their outputs.
Vec sparse_moe(const Loader& L, const std::string& b, int64_t used, bool renormalise,
               const Vec& h) {
  const Vec logits = matvec(L.matrix(b + "ffn_gate_inp.weight"), h);
  Vec prob(logits.size());
  double mx = -1e300, sum = 0;
  for (double l : logits) mx = std::max(mx, l);
  for (size_t e = 0; e < logits.size(); ++e) sum += (prob[e] = std::exp(logits[e] - mx));
  std::vector<int64_t> order(prob.size());
  for (size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int64_t>(e);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t c) { return prob[a] > prob[c]; });
  double chosen = 0;
  for (int64_t j = 0; j < used; ++j) chosen += prob[order[j]];
  Vec out(h.size(), 0.0);
  for (int64_t j = 0; j < used; ++j) {
    const int64_t e = order[j];
    const double weight = renormalise ? prob[e] / chosen : prob[e] / sum;
    const Vec y =
        swiglu(L.expert(b + "ffn_gate_exps.weight", e), L.expert(b + "ffn_up_exps.weight", e),
               L.expert(b + "ffn_down_exps.weight", e), h);
    for (size_t i = 0; i < out.size(); ++i) out[i] += weight * y[i];
  }
  return out;
}

std::vector<std::vector<double>> run(const format::GgufFile& f, const std::vector<int>& tokens) {
  Loader L{f};
  const std::string arch = *f.get_string("general.architecture");
  const std::string p = arch + ".";
  const int64_t E = *f.get_int(p + "embedding_length");
  const int64_t n_layer = *f.get_int(p + "block_count");
  const int64_t H = *f.get_int(p + "attention.head_count");
  const int64_t KVH = *f.get_int_or(p + "attention.head_count_kv", H);
  const int64_t D = *f.get_int_or(p + "attention.key_length", E / H);
  const int64_t n_rot = *f.get_int_or(p + "rope.dimension_count", D);
  const int64_t n_ff = *f.get_int(p + "feed_forward_length");
  const double eps = L.num(p + "attention.layer_norm_rms_epsilon", 1e-5);
  const double base = L.num(p + "rope.freq_base", 10000.0);
  const double window = L.num(p + "attention.sliding_window", 0.0);
  const double attn_cap = L.num(p + "attn_logit_softcapping", 0.0);
  const double final_cap = L.num(p + "final_logit_softcapping", 0.0);
  const bool linear = *f.get_string_or(p + "rope.scaling.type", "none") == "linear";
  const int64_t experts_used = *f.get_int_or(p + "expert_used_count", 0);
  const bool renormalise = *f.get_bool_or(p + "expert_weights_norm", true);
  const double linear_factor = linear ? L.num(p + "rope.scaling.factor", 1.0) : 1.0;

  const bool gemma = arch == "gemma2" || arch == "gemma3";
  const bool neox = arch != "llama";
  const Vec* freq_factors = nullptr;
  Vec freqs;
  if (L.has("rope_freqs.weight")) {
    freqs = L.flat("rope_freqs.weight");
    freq_factors = &freqs;
  }
  // Which layers attend within the sliding window.
  auto sliding = [&](int64_t il) {
    if (window <= 0) return false;
    if (arch == "gemma2") return il % 2 == 0;
    if (arch == "gemma3") return (il + 1) % 6 != 0;
    return arch == "phi3";
  };

  const int64_t T = static_cast<int64_t>(tokens.size());
  const Mat embd = L.matrix("token_embd.weight");
  std::vector<Vec> x(T);
  for (int64_t t = 0; t < T; ++t) {
    x[t] = embd[tokens[t]];
    if (gemma)
      for (double& v : x[t]) v *= std::sqrt(static_cast<double>(E));
  }
  for (int64_t il = 0; il < n_layer; ++il) {
    const std::string b = fmt::format("blk.{}.", il);
    Mat wq, wk, wv, wgate, wup;
    if (L.has(b + "attn_qkv.weight")) {
      Mat qkv = L.matrix(b + "attn_qkv.weight");
      wq.assign(qkv.begin(), qkv.begin() + H * D);
      wk.assign(qkv.begin() + H * D, qkv.begin() + (H + KVH) * D);
      wv.assign(qkv.begin() + (H + KVH) * D, qkv.end());
    } else {
      wq = L.matrix(b + "attn_q.weight");
      wk = L.matrix(b + "attn_k.weight");
      wv = L.matrix(b + "attn_v.weight");
    }
    const Mat wo = L.matrix(b + "attn_output.weight");
    const bool sparse = L.has(b + "ffn_gate_inp.weight");  // experts: see sparse_moe
    if (L.has(b + "ffn_gate.weight")) {
      wgate = L.matrix(b + "ffn_gate.weight");
      wup = L.matrix(b + "ffn_up.weight");
    } else if (!sparse) {  // phi3: gate and up stacked in ffn_up
      Mat gu = L.matrix(b + "ffn_up.weight");
      wgate.assign(gu.begin(), gu.begin() + n_ff);
      wup.assign(gu.begin() + n_ff, gu.end());
    }
    const Mat wdown = sparse ? Mat() : L.matrix(b + "ffn_down.weight");
    const Vec attn_norm = L.flat(b + "attn_norm.weight");
    const Vec ffn_norm = L.flat(b + "ffn_norm.weight");
    const bool local = sliding(il);
    const double layer_base = arch == "gemma3" && local ? 10000.0 : base;
    const double pos_scale = arch == "gemma3" && local ? 1.0 : 1.0 / linear_factor;

    std::vector<Vec> q(T), k(T), v(T);
    for (int64_t t = 0; t < T; ++t) {
      const Vec h = rms_norm(x[t], attn_norm, eps);
      q[t] = matvec(wq, h);
      k[t] = matvec(wk, h);
      v[t] = matvec(wv, h);
      if (L.has(b + "attn_q.bias")) {
        const Vec bq = L.flat(b + "attn_q.bias"), bk = L.flat(b + "attn_k.bias"), bv = L.flat(b + "attn_v.bias");
        for (size_t i = 0; i < q[t].size(); ++i) q[t][i] += bq[i];
        for (size_t i = 0; i < k[t].size(); ++i) k[t][i] += bk[i];
        for (size_t i = 0; i < v[t].size(); ++i) v[t][i] += bv[i];
      }
      if (L.has(b + "attn_q_norm.weight")) {
        const Vec qn = L.flat(b + "attn_q_norm.weight"), kn = L.flat(b + "attn_k_norm.weight");
        for (int64_t h2 = 0; h2 < H; ++h2) {
          Vec head(q[t].begin() + h2 * D, q[t].begin() + (h2 + 1) * D);
          head = rms_norm(head, qn, eps);
          std::copy(head.begin(), head.end(), q[t].begin() + h2 * D);
        }
        for (int64_t h2 = 0; h2 < KVH; ++h2) {
          Vec head(k[t].begin() + h2 * D, k[t].begin() + (h2 + 1) * D);
          head = rms_norm(head, kn, eps);
          std::copy(head.begin(), head.end(), k[t].begin() + h2 * D);
        }
      }
      for (int64_t h2 = 0; h2 < H; ++h2)
        rope(q[t].data() + h2 * D, D, n_rot, t * pos_scale, layer_base, neox, freq_factors);
      for (int64_t h2 = 0; h2 < KVH; ++h2)
        rope(k[t].data() + h2 * D, D, n_rot, t * pos_scale, layer_base, neox, freq_factors);
    }
    const double scale = 1.0 / std::sqrt(static_cast<double>(D));
    for (int64_t t = 0; t < T; ++t) {
      Vec att(H * D, 0.0);
      for (int64_t h2 = 0; h2 < H; ++h2) {
        const int64_t g = h2 / (H / KVH);
        std::vector<double> s;
        const int64_t first = local ? std::max<int64_t>(0, t - static_cast<int64_t>(window) + 1) : 0;
        for (int64_t u = first; u <= t; ++u) {
          double d = 0;
          for (int64_t i = 0; i < D; ++i) d += q[t][h2 * D + i] * k[u][g * D + i];
          d *= scale;
          if (attn_cap > 0) d = attn_cap * std::tanh(d / attn_cap);
          s.push_back(d);
        }
        double mx = -1e300, sum = 0;
        for (double d : s) mx = std::max(mx, d);
        for (double& d : s) sum += (d = std::exp(d - mx));
        for (int64_t u = first; u <= t; ++u)
          for (int64_t i = 0; i < D; ++i) att[h2 * D + i] += s[u - first] / sum * v[u][g * D + i];
      }
      Vec o = matvec(wo, att);
      if (gemma) o = rms_norm(o, L.flat(b + "post_attention_norm.weight"), eps);
      for (int64_t i = 0; i < E; ++i) x[t][i] += o[i];
      const Vec h = rms_norm(x[t], ffn_norm, eps);
      Vec d;
      if (sparse) {
        d = sparse_moe(L, b, experts_used, renormalise, h);
      } else {
        Vec gt = matvec(wgate, h);
        const Vec up = matvec(wup, h);
        for (int64_t i = 0; i < n_ff; ++i) {
          const double g = gt[i];
          const double act =
              gemma ? 0.5 * g * (1 + std::tanh(std::sqrt(2 / M_PI) * (g + 0.044715 * g * g * g)))
                    : g / (1 + std::exp(-g));
          gt[i] = act * up[i];
        }
        d = matvec(wdown, gt);
      }
      if (gemma) d = rms_norm(d, L.flat(b + "post_ffw_norm.weight"), eps);
      for (int64_t i = 0; i < E; ++i) x[t][i] += d[i];
    }
  }
  const Vec out_norm = L.flat("output_norm.weight");
  const Mat out = L.has("output.weight") ? L.matrix("output.weight") : embd;
  std::vector<Vec> logits(T);
  for (int64_t t = 0; t < T; ++t) {
    logits[t] = matvec(out, rms_norm(x[t], out_norm, eps));
    if (final_cap > 0)
      for (double& l : logits[t]) l = final_cap * std::tanh(l / final_cap);
  }
  return logits;
}

}  // namespace

Result<std::vector<std::vector<double>>> plain_transformer_logits(const std::string& path,
                                                                   const std::vector<int>& tokens) {
  INFERD_ASSIGN_OR_RETURN(auto file, format::GgufFile::open(path));
  try {
    return run(*file, tokens);
  } catch (const std::exception& e) {
    return invalid_argument("reference transformer: {}", e.what());
  }
}

}  // namespace inferd::testing

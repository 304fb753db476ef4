// Qwen3-MoE end to end: tiny random model directories (Hugging Face per-expert layout in F32, and
// MLX 4-bit with experts stacked the switch_mlp way) loaded by inferd and checked against a plain
// double-precision forward pass written here from the published modeling code (embedding,
// RMSNorm, q/k norms, half-split RoPE, grouped-query attention, router softmax, top-k,
// renormalisation, SwiGLU experts), with no KV cache and nothing shared with src/model.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "backend/cpu/panel_ops.h"
#include "backend/mlx_affine.h"
#include "base/half.h"
#include "base/thread_pool.h"
#include "format/safetensors_writer.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "model/model_export.h"
#include "testing/test_paths.h"

namespace inferd::model {
namespace {

namespace fs = std::filesystem;
using format::SafetensorsDType;
using json = nlohmann::json;

struct Dense {
  std::vector<int64_t> shape;
  std::vector<float> v;
};
using WeightMap = std::map<std::string, Dense>;  // HF names, per-expert layout

struct Shape {
  int64_t embd = 64, layers = 3, heads = 4, kv_heads = 2, head_dim = 16, ff = 128, vocab = 96;
  int64_t experts = 8, used = 3, expert_ff = 64;
  bool norm_topk = true;
  int64_t sparse_step = 1;
  std::vector<int64_t> mlp_only{1};
  double theta = 1000000.0, eps = 1e-6;

  bool sparse(int64_t il) const {
    return std::find(mlp_only.begin(), mlp_only.end(), il) == mlp_only.end() && experts > 0 &&
           (il + 1) % sparse_step == 0;
  }
};

json config_of(const Shape& s) {
  return {{"architectures", {"Qwen3MoeForCausalLM"}},
          {"model_type", "qwen3_moe"},
          {"hidden_size", s.embd},
          {"num_hidden_layers", s.layers},
          {"intermediate_size", s.ff},
          {"num_attention_heads", s.heads},
          {"num_key_value_heads", s.kv_heads},
          {"head_dim", s.head_dim},
          {"vocab_size", s.vocab},
          {"max_position_embeddings", 256},
          {"rms_norm_eps", s.eps},
          {"rope_theta", s.theta},
          {"tie_word_embeddings", false},
          {"num_experts", s.experts},
          {"num_experts_per_tok", s.used},
          {"moe_intermediate_size", s.expert_ff},
          {"norm_topk_prob", s.norm_topk},
          {"decoder_sparse_step", s.sparse_step},
          {"mlp_only_layers", s.mlp_only},
          {"eos_token_id", 2}};
}

WeightMap random_weights(const Shape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  WeightMap w;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale, float offset) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::uniform_real_distribution<float> u(-scale, scale);
    Dense t{std::move(shape), std::vector<float>(n)};
    for (float& x : t.v) x = offset + u(rng);
    w[name] = std::move(t);
  };
  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols, float gain = 1.0f) {
    add(name, {rows, cols}, gain * std::sqrt(3.0f / static_cast<float>(cols)), 0.0f);
  };
  const int64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  add("model.embed_tokens.weight", {s.vocab, s.embd}, 1.0f, 0.0f);
  add("model.norm.weight", {s.embd}, 0.2f, 1.0f);
  matrix("lm_head.weight", s.vocab, s.embd);
  for (int64_t il = 0; il < s.layers; ++il) {
    const std::string p = fmt::format("model.layers.{}.", il);
    add(p + "input_layernorm.weight", {s.embd}, 0.2f, 1.0f);
    add(p + "post_attention_layernorm.weight", {s.embd}, 0.2f, 1.0f);
    add(p + "self_attn.q_norm.weight", {s.head_dim}, 0.2f, 1.0f);
    add(p + "self_attn.k_norm.weight", {s.head_dim}, 0.2f, 1.0f);
    matrix(p + "self_attn.q_proj.weight", q, s.embd);
    matrix(p + "self_attn.k_proj.weight", kv, s.embd);
    matrix(p + "self_attn.v_proj.weight", kv, s.embd);
    matrix(p + "self_attn.o_proj.weight", s.embd, q);
    if (s.sparse(il)) {
      matrix(p + "mlp.gate.weight", s.experts, s.embd, 3.0f);  // routing with clear margins
      for (int64_t e = 0; e < s.experts; ++e) {
        const std::string x = fmt::format("{}mlp.experts.{}.", p, e);
        matrix(x + "gate_proj.weight", s.expert_ff, s.embd);
        matrix(x + "up_proj.weight", s.expert_ff, s.embd);
        matrix(x + "down_proj.weight", s.embd, s.expert_ff);
      }
    } else {
      matrix(p + "mlp.gate_proj.weight", s.ff, s.embd);
      matrix(p + "mlp.up_proj.weight", s.ff, s.embd);
      matrix(p + "mlp.down_proj.weight", s.embd, s.ff);
    }
  }
  return w;
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  const auto* b = reinterpret_cast<const uint8_t*>(v.data());
  return std::vector<uint8_t>(b, b + v.size() * sizeof(float));
}

void write_config(const std::string& dir, const json& config) {
  fs::create_directories(dir);
  std::ofstream(dir + "/config.json") << config.dump();
}

void write_float_dir(const std::string& dir, const Shape& s, const WeightMap& w) {
  write_config(dir, config_of(s));
  format::SafetensorsWriter st;
  for (const auto& [name, t] : w) st.add(name, SafetensorsDType::kF32, t.shape, f32_bytes(t.v));
  ASSERT_TRUE(st.write(dir + "/model.safetensors").ok());
}

float round_f16(float v) {
  return f16_to_f32(f32_to_f16(v));
}

// Quantizes `rows` x `cols` values MLX's way into `st` under `module` (codes, F16 scales and
// biases, with `lead` as extra leading dimensions) and overwrites `values` with what they
// dequantize to.
void add_mlx(format::SafetensorsWriter& st, const std::string& module, std::vector<int64_t> lead,
             int64_t rows, int64_t cols, backend::MlxAffineSpec spec, float* values) {
  const int64_t groups = cols / spec.group_size, row_code_bytes = cols * spec.bits / 8;
  std::vector<uint8_t> codes(rows * row_code_bytes);
  std::vector<float> scales(rows * groups), biases(rows * groups);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = values + r * cols;
    backend::mlx_quantize_row(row, cols, spec, round_f16, codes.data() + r * row_code_bytes,
                              scales.data() + r * groups, biases.data() + r * groups);
    for (int64_t k = 0; k < cols; ++k)
      row[k] = std::fmaf(
          scales[r * groups + k / spec.group_size],
          static_cast<float>(backend::mlx_code(codes.data() + r * row_code_bytes, k, spec.bits)),
          biases[r * groups + k / spec.group_size]);
  }
  std::vector<uint16_t> s16(scales.size()), b16(biases.size());
  for (size_t i = 0; i < scales.size(); ++i) {
    s16[i] = f32_to_f16(scales[i]);
    b16[i] = f32_to_f16(biases[i]);
  }
  const int64_t per_lead = lead.empty() ? rows : rows / lead[0];
  auto shape = [&](int64_t last) {
    std::vector<int64_t> sh = lead;
    sh.push_back(per_lead);
    sh.push_back(last);
    return sh;
  };
  auto bytes16 = [](const std::vector<uint16_t>& v) {
    const auto* b = reinterpret_cast<const uint8_t*>(v.data());
    return std::vector<uint8_t>(b, b + v.size() * 2);
  };
  st.add(module + ".weight", SafetensorsDType::kU32, shape(cols * spec.bits / 32),
         std::move(codes));
  st.add(module + ".scales", SafetensorsDType::kF16, shape(groups), bytes16(s16));
  st.add(module + ".biases", SafetensorsDType::kF16, shape(groups), bytes16(b16));
}

// An MLX directory: attention and dense matrices 4-bit group 64, routers 8-bit group 64 (a
// per-module override), experts stacked as mlp.switch_mlp.*; embeddings, lm_head and norms F32.
// Replaces the values of `w` with the dequantized ones.
void write_mlx_dir(const std::string& dir, const Shape& s, WeightMap& w) {
  const backend::MlxAffineSpec q4{4, 64}, q8{8, 64};
  json config = config_of(s);
  json quant = {{"group_size", 64}, {"bits", 4}};
  format::SafetensorsWriter st;
  for (auto& [name, t] : w) {
    const bool expert = name.find(".mlp.experts.") != std::string::npos;
    if (expert) continue;
    const std::string module = name.substr(0, name.size() - 7);
    const bool router = name.ends_with("mlp.gate.weight");
    if (t.shape.size() == 2 && name.find("layers.") != std::string::npos) {
      if (router) quant[module] = {{"group_size", 64}, {"bits", 8}};
      add_mlx(st, module, {}, t.shape[0], t.shape[1], router ? q8 : q4, t.v.data());
    } else {
      st.add(name, SafetensorsDType::kF32, t.shape, f32_bytes(t.v));
    }
  }
  for (int64_t il = 0; il < s.layers; ++il) {
    if (!s.sparse(il)) continue;
    for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) {
      const auto& first = w[fmt::format("model.layers.{}.mlp.experts.0.{}.weight", il, proj)];
      const int64_t rows = first.shape[0], cols = first.shape[1];
      std::vector<float> stacked;
      for (int64_t e = 0; e < s.experts; ++e) {
        const auto& t = w[fmt::format("model.layers.{}.mlp.experts.{}.{}.weight", il, e, proj)];
        stacked.insert(stacked.end(), t.v.begin(), t.v.end());
      }
      add_mlx(st, fmt::format("model.layers.{}.mlp.switch_mlp.{}", il, proj), {s.experts},
              s.experts * rows, cols, q4, stacked.data());
      for (int64_t e = 0; e < s.experts; ++e) {
        auto& t = w[fmt::format("model.layers.{}.mlp.experts.{}.{}.weight", il, e, proj)];
        std::copy_n(stacked.begin() + e * rows * cols, rows * cols, t.v.begin());
      }
    }
  }
  config["quantization"] = quant;
  write_config(dir, config);
  ASSERT_TRUE(st.write(dir + "/model.safetensors").ok());
}

// ---- The plain reference (Hugging Face Qwen3MoeForCausalLM, double precision) ----

using Vec = std::vector<double>;

Vec matvec(const Dense& m, const Vec& x) {
  const int64_t rows = m.shape[0], cols = m.shape[1];
  Vec y(rows, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) y[r] += m.v[r * cols + c] * x[c];
  return y;
}

Vec rms_norm(const double* x, const Dense& w, int64_t n, double eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const double inv = 1.0 / std::sqrt(ss / n + eps);
  Vec y(n);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * inv * w.v[i];
  return y;
}

Vec swiglu_mlp(const WeightMap& w, const std::string& p, const Vec& h) {
  Vec g = matvec(w.at(p + "gate_proj.weight"), h);
  const Vec u = matvec(w.at(p + "up_proj.weight"), h);
  for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
  return matvec(w.at(p + "down_proj.weight"), g);
}

// Qwen3MoeSparseMoeBlock: softmax over the router logits, top-k, optional renormalisation, the
// weighted sum of the chosen experts. Lowers `*margin` to the gap between the router logits of
// the last expert chosen and the first one left out.
Vec sparse_moe(const WeightMap& w, const Shape& s, const std::string& p, const Vec& h,
               double* margin) {
  const Vec logits = matvec(w.at(p + "mlp.gate.weight"), h);
  Vec prob(logits.size());
  const double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (size_t e = 0; e < logits.size(); ++e) sum += (prob[e] = std::exp(logits[e] - mx));
  for (double& v : prob) v /= sum;
  std::vector<int> order(prob.size());
  for (size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int>(e);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return prob[a] > prob[b]; });
  double chosen = 0;
  for (int64_t j = 0; j < s.used; ++j) chosen += prob[order[j]];
  if (s.used < s.experts)
    *margin = std::min(*margin, logits[order[s.used - 1]] - logits[order[s.used]]);
  Vec out(h.size(), 0.0);
  for (int64_t j = 0; j < s.used; ++j) {
    const int e = order[j];
    const double weight = s.norm_topk ? prob[e] / chosen : prob[e];
    const Vec y = swiglu_mlp(w, fmt::format("{}mlp.experts.{}.", p, e), h);
    for (size_t i = 0; i < out.size(); ++i) out[i] += weight * y[i];
  }
  return out;
}

// `margin` (may be null) receives the smallest routing margin (see sparse_moe).
std::vector<Vec> reference_logits(const WeightMap& w, const Shape& s,
                                  const std::vector<int32_t>& tokens, double* margin = nullptr) {
  double unused_margin = 0;
  if (!margin) margin = &unused_margin;
  *margin = std::numeric_limits<double>::infinity();
  const int64_t T = static_cast<int64_t>(tokens.size()), E = s.embd, D = s.head_dim;
  const int64_t H = s.heads, KVH = s.kv_heads;
  std::vector<Vec> x(T);
  const Dense& embd = w.at("model.embed_tokens.weight");
  for (int64_t t = 0; t < T; ++t)
    x[t] = Vec(embd.v.begin() + tokens[t] * E, embd.v.begin() + (tokens[t] + 1) * E);
  auto rope = [&](double* head, int64_t pos) {  // rotate_half pairs (i, i + D/2)
    for (int64_t i = 0; i < D / 2; ++i) {
      const double th = pos * std::pow(s.theta, -2.0 * i / D);
      const double a = head[i], b = head[i + D / 2];
      head[i] = a * std::cos(th) - b * std::sin(th);
      head[i + D / 2] = b * std::cos(th) + a * std::sin(th);
    }
  };
  for (int64_t il = 0; il < s.layers; ++il) {
    const std::string p = fmt::format("model.layers.{}.", il);
    std::vector<Vec> q(T), k(T), v(T);
    for (int64_t t = 0; t < T; ++t) {
      const Vec h = rms_norm(x[t].data(), w.at(p + "input_layernorm.weight"), E, s.eps);
      q[t] = matvec(w.at(p + "self_attn.q_proj.weight"), h);
      k[t] = matvec(w.at(p + "self_attn.k_proj.weight"), h);
      v[t] = matvec(w.at(p + "self_attn.v_proj.weight"), h);
      for (int64_t hd = 0; hd < H; ++hd) {
        const Vec n = rms_norm(&q[t][hd * D], w.at(p + "self_attn.q_norm.weight"), D, s.eps);
        std::copy(n.begin(), n.end(), q[t].begin() + hd * D);
        rope(&q[t][hd * D], t);
      }
      for (int64_t hd = 0; hd < KVH; ++hd) {
        const Vec n = rms_norm(&k[t][hd * D], w.at(p + "self_attn.k_norm.weight"), D, s.eps);
        std::copy(n.begin(), n.end(), k[t].begin() + hd * D);
        rope(&k[t][hd * D], t);
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      Vec att(H * D, 0.0);
      for (int64_t hd = 0; hd < H; ++hd) {
        const int64_t g = hd / (H / KVH);
        Vec sc(t + 1);
        for (int64_t u = 0; u <= t; ++u) {
          double d = 0;
          for (int64_t i = 0; i < D; ++i) d += q[t][hd * D + i] * k[u][g * D + i];
          sc[u] = d / std::sqrt(static_cast<double>(D));
        }
        const double mx = *std::max_element(sc.begin(), sc.end());
        double sum = 0;
        for (double& d : sc) sum += (d = std::exp(d - mx));
        for (int64_t u = 0; u <= t; ++u)
          for (int64_t i = 0; i < D; ++i) att[hd * D + i] += sc[u] / sum * v[u][g * D + i];
      }
      const Vec o = matvec(w.at(p + "self_attn.o_proj.weight"), att);
      for (int64_t i = 0; i < E; ++i) x[t][i] += o[i];
      const Vec h = rms_norm(x[t].data(), w.at(p + "post_attention_layernorm.weight"), E, s.eps);
      const Vec f = s.sparse(il) ? sparse_moe(w, s, p, h, margin) : swiglu_mlp(w, p + "mlp.", h);
      for (int64_t i = 0; i < E; ++i) x[t][i] += f[i];
    }
  }
  std::vector<Vec> logits(T);
  for (int64_t t = 0; t < T; ++t)
    logits[t] =
        matvec(w.at("lm_head.weight"), rms_norm(x[t].data(), w.at("model.norm.weight"), E, s.eps));
  return logits;
}

// ---- The engine ----

// Logits of two sequences, [seq][pos][vocab]: either every token of both in one batch, or one
// token per forward pass.
std::vector<std::vector<std::vector<float>>> engine_logits(const Model& m,
                                                           const std::vector<int32_t> (&seqs)[2],
                                                           bool one_batch) {
  const HParams& hp = m.hparams();
  KvCache kv(hp, 8, 16, 2);
  const std::vector<int32_t> tables[2] = {{0, 1, 2, 3}, {4, 5, 6, 7}};
  kv.set_table(0, tables[0]);
  kv.set_table(1, tables[1]);
  const int64_t T = static_cast<int64_t>(seqs[0].size());
  ForwardScratch scratch(hp, 2 * T, 64, 2);
  ThreadPool pool(2);
  std::vector<std::vector<std::vector<float>>> out(2);
  std::vector<BatchToken> batch;
  auto flush = [&] {
    std::vector<float> logits(batch.size() * hp.n_vocab);
    const Status st = m.transformer().forward(batch, kv, scratch, pool, logits.data());
    ASSERT_TRUE(st.ok()) << st.to_string();
    for (size_t i = 0; i < batch.size(); ++i)
      out[batch[i].seq].emplace_back(logits.begin() + i * hp.n_vocab,
                                     logits.begin() + (i + 1) * hp.n_vocab);
    batch.clear();
  };
  for (int64_t t = 0; t < T; ++t)
    for (int s = 0; s < 2; ++s) {
      batch.push_back(
          {.token = seqs[s][t], .pos = static_cast<int32_t>(t), .seq = s, .want_logits = true});
      if (!one_batch) flush();
    }
  if (one_batch) flush();
  return out;
}

// Largest |reference - engine| over both sequences, and the largest |reference| logit.
std::pair<double, double> compare(const std::vector<Vec> (&want)[2],
                                  const std::vector<std::vector<std::vector<float>>>& got) {
  double worst = 0, scale = 0;
  for (int s = 0; s < 2; ++s)
    for (size_t t = 0; t < want[s].size(); ++t)
      for (size_t i = 0; i < want[s][t].size(); ++i) {
        worst = std::max(worst, std::fabs(want[s][t][i] - got[s][t][i]));
        scale = std::max(scale, std::fabs(want[s][t][i]));
      }
  return {worst, scale};
}

const std::vector<int32_t> kSeqs[2] = {{1, 5, 17, 42, 77, 90, 7, 3, 64, 33},
                                       {95, 8, 8, 61, 12, 40, 2, 29, 50, 71}};

struct Variant {
  const char* name;
  Shape shape;
  uint32_t seed;
};

// Routing is discontinuous: two experts whose router logits differ by less than the engine's
// rounding (f16 keys and values, int8 activations for quantized weights) may swap places. The
// fixtures' seeds give every routing decision at least this margin, which the tests check.
constexpr double kFloatRoutingMargin = 0.02, kQuantizedRoutingMargin = 0.05;

class Qwen3MoeReference : public ::testing::TestWithParam<Variant> {};

// The F32 directory's logits match the reference up to the f16 KV cache's rounding, and a batch
// of both sequences gives exactly the logits of one token per pass.
TEST_P(Qwen3MoeReference, FloatDirectoryMatchesPlainReference) {
  const Shape& s = GetParam().shape;
  const std::string dir = (::inferd::testing::temp_dir() / "qwen3moe").string();
  const WeightMap w = random_weights(s, GetParam().seed);
  write_float_dir(dir, s, w);
  auto m = Model::load(dir);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ((*m)->hparams().arch->gguf_name, "qwen3moe");
  for (int64_t il = 0; il < s.layers; ++il) {
    EXPECT_EQ((*m)->hparams().is_moe_layer(il), s.sparse(il)) << il;
    EXPECT_EQ((*m)->weights().layers[il].expert_gate.size(), s.sparse(il) ? s.experts : 0) << il;
  }

  const auto batched = engine_logits(**m, kSeqs, true);
  const auto single = engine_logits(**m, kSeqs, false);
  double margins[2];
  const std::vector<Vec> want[2] = {reference_logits(w, s, kSeqs[0], &margins[0]),
                                    reference_logits(w, s, kSeqs[1], &margins[1])};
  ASSERT_GT(std::min(margins[0], margins[1]), kFloatRoutingMargin);
  const auto [worst, scale] = compare(want, batched);
  ASSERT_GT(scale, 0.5);
  // Keys and values are stored as f16 (2^-11 relative): a few 1e-3 of the largest logit.
  EXPECT_LT(worst, 2e-3 * scale) << "largest logit " << scale;
  std::printf("%s: largest logit difference %.2e of %.2f\n", GetParam().name, worst, scale);
  for (int q = 0; q < 2; ++q)
    for (size_t t = 0; t < kSeqs[q].size(); ++t)
      ASSERT_EQ(batched[q][t], single[q][t]) << "sequence " << q << " position " << t;
}

Shape unnormalised_every_other_layer() {
  Shape s;
  s.norm_topk = false;
  s.sparse_step = 2;  // layer 1 sparse, layers 0 and 2 dense
  s.mlp_only = {};
  s.used = 2;
  return s;
}

INSTANTIATE_TEST_SUITE_P(Variants, Qwen3MoeReference,
                         ::testing::Values(Variant{"renormalised", Shape{}, 17},
                                           Variant{"unnormalised", unnormalised_every_other_layer(),
                                                   17}),
                         [](const auto& info) { return std::string(info.param.name); });

// MLX 4-bit (experts stacked as switch_mlp, 8-bit routers): within the MLX acceptance tolerance of
// the reference on the dequantized weights (twice the deviation of the same weights as GGUF
// Q8_0, whose kernels quantize activations to int8 alike, plus the f16 KV floor). The directory
// written as GGUF F32 (qwen3moe with 3-D expert tensors) gives the reference up to the KV floor.
constexpr uint32_t kMlxSeed = 14;
TEST(Qwen3Moe, MlxSwitchMlpWithinQuantizationTolerance) {
  const Shape s;
  const auto root = ::inferd::testing::temp_dir();
  WeightMap w = random_weights(s, kMlxSeed);
  const std::string dir = (root / "mlx").string();
  write_mlx_dir(dir, s, w);  // w now holds the dequantized weights
  auto m = Model::load(dir, {.keep_tensors = true});
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const TensorInfo* stacked = (*m)->tensors().find_tensor("blk.0.ffn_down_exps.weight");
  ASSERT_NE(stacked, nullptr);
  EXPECT_EQ(stacked->type, backend::DType::kMlxQ4G64);
  EXPECT_EQ(stacked->num_dims, 3);
  EXPECT_EQ((*m)->tensors().find_tensor("blk.0.ffn_gate_inp.weight")->type,
            backend::DType::kMlxQ8G64);

  double margins[2];
  const std::vector<Vec> want[2] = {reference_logits(w, s, kSeqs[0], &margins[0]),
                                    reference_logits(w, s, kSeqs[1], &margins[1])};
  ASSERT_GT(std::min(margins[0], margins[1]), kQuantizedRoutingMargin);
  const auto mlx = engine_logits(**m, kSeqs, true);
  const auto single = engine_logits(**m, kSeqs, false);
  for (int q = 0; q < 2; ++q)
    for (size_t t = 0; t < kSeqs[q].size(); ++t)
      ASSERT_EQ(mlx[q][t], single[q][t]) << "sequence " << q << " position " << t;

  // Loaded for serving, the stacked experts' blocks are released once every expert has panels
  // (where this CPU has panel kernels), and the logits stay the same.
  auto served = Model::load(dir);
  ASSERT_TRUE(served.ok()) << served.status().to_string();
  const bool panels = backend::cpu::panel_ops(backend::DType::kMlxQ4G64) != nullptr;
  EXPECT_EQ((*served)->tensors().find_tensor("blk.0.ffn_down_exps.weight")->data == nullptr,
            panels);
  EXPECT_EQ((*served)->weights().layers[0].expert_down[3].data == nullptr, panels);
  EXPECT_EQ(engine_logits(**served, kSeqs, true), mlx);

  const std::string f32 = (root / "f32.gguf").string(), q8 = (root / "q8_0.gguf").string();
  ASSERT_TRUE(export_gguf(**m, backend::DType::kF32, f32).ok());
  ASSERT_TRUE(export_gguf(**m, backend::DType::kQ8_0, q8).ok());
  auto gguf = Model::load(f32);
  ASSERT_TRUE(gguf.ok()) << gguf.status().to_string();
  auto gguf_q8 = Model::load(q8);
  ASSERT_TRUE(gguf_q8.ok()) << gguf_q8.status().to_string();
  EXPECT_EQ((*gguf)->hparams().moe_layers, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ((*gguf_q8)->tensors().find_tensor("blk.2.ffn_up_exps.weight")->type,
            backend::DType::kQ8_0);

  const auto [mlx_diff, scale] = compare(want, mlx);
  const double f32_diff = compare(want, engine_logits(**gguf, kSeqs, true)).first;
  const double q8_diff = compare(want, engine_logits(**gguf_q8, kSeqs, true)).first;
  const double kv_floor = 2e-3 * scale;
  EXPECT_LT(f32_diff, kv_floor) << "GGUF F32, largest logit " << scale;
  EXPECT_LE(mlx_diff, 2.0 * q8_diff + kv_floor) << "Q8_0 deviation " << q8_diff;
  std::printf("mlx %.2e, gguf f32 %.2e, gguf q8_0 %.2e, largest logit %.2f\n", mlx_diff, f32_diff,
              q8_diff, scale);
}

// The model converts to the other layouts inferd writes: GGUF qwen3moe with one tensor per
// expert (the same F32 weights: identical logits), and an MLX 8-bit directory with per-expert
// quantized matrices whose config.json records the sparse layers (quantization error only).
TEST(Qwen3Moe, ConvertsBetweenFormats) {
  const Shape s;
  const auto root = ::inferd::testing::temp_dir();
  const std::string dir = (root / "f32").string();
  write_float_dir(dir, s, random_weights(s, 17));
  auto m = Model::load(dir, {.keep_tensors = true});
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const auto want = engine_logits(**m, kSeqs, true);

  const std::string gguf_path = (root / "m.gguf").string();
  ASSERT_TRUE(export_gguf(**m, backend::DType::kF32, gguf_path).ok());
  auto gguf = Model::load(gguf_path);
  ASSERT_TRUE(gguf.ok()) << gguf.status().to_string();
  EXPECT_NE((*gguf)->tensors().find_tensor("blk.2.ffn_down.7.weight"), nullptr);
  EXPECT_EQ(engine_logits(**gguf, kSeqs, true), want);

  const std::string mlx_dir = (root / "mlx").string();
  ASSERT_TRUE(export_hf_dir(**m, *parse_hf_dir_format("mlx_q8_g32"), mlx_dir).ok());
  auto mlx = Model::load(mlx_dir);
  ASSERT_TRUE(mlx.ok()) << mlx.status().to_string();
  const HParams& hp = (*mlx)->hparams();
  EXPECT_EQ(hp.moe_layers, (*m)->hparams().moe_layers);
  EXPECT_EQ(hp.n_expert, s.experts);
  EXPECT_EQ(hp.n_expert_used, s.used);
  EXPECT_EQ(hp.n_ff_expert, s.expert_ff);
  EXPECT_EQ(hp.expert_weights_norm, s.norm_topk);
  EXPECT_EQ((*mlx)->tensors().find_tensor("blk.0.ffn_gate.3.weight")->type,
            backend::DType::kMlxQ8G32);
  const auto got = engine_logits(**mlx, kSeqs, true);
  double worst = 0, scale = 0;
  for (int q = 0; q < 2; ++q)
    for (size_t t = 0; t < want[q].size(); ++t)
      for (size_t i = 0; i < want[q][t].size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::fabs(want[q][t][i] - got[q][t][i])));
        scale = std::max(scale, static_cast<double>(std::fabs(want[q][t][i])));
      }
  // The bound of the MLX acceptance tests for 8-bit weights.
  EXPECT_LE(worst, 0.1 * scale);
  std::printf("mlx 8-bit vs f32: %.2e of %.2f\n", worst, scale);
}

TEST(Qwen3Moe, RejectsBadDirectories) {
  const Shape s;
  const auto root = ::inferd::testing::temp_dir();
  const WeightMap w = random_weights(s, 5);
  struct Case {
    const char* what;
    std::function<void(WeightMap&, json&)> edit;
    const char* message;  // part of the error
  };
  const Case cases[] = {
      {"top-k above the expert count", [](WeightMap&, json& c) { c["num_experts_per_tok"] = 9; },
       "experts used per token"},
      {"an expert missing",
       [](WeightMap& m, json&) { m.erase("model.layers.2.mlp.experts.5.up_proj.weight"); },
       "blk.2.ffn_up.5.weight"},
      {"a sparse layer without experts",
       [](WeightMap& m, json&) {
         for (int e = 0; e < 8; ++e)
           m.erase(fmt::format("model.layers.0.mlp.experts.{}.gate_proj.weight", e));
       },
       "no experts"},
      {"the router missing", [](WeightMap& m, json&) { m.erase("model.layers.0.mlp.gate.weight"); },
       "blk.0.ffn_gate_inp.weight"},
      {"an expert of the wrong size",
       [](WeightMap& m, json& c) { c["moe_intermediate_size"] = 32; }, "blk.0.ffn_gate.0.weight"},
      {"a dense layer declared sparse",
       [](WeightMap&, json& c) { c["mlp_only_layers"] = json::array(); },
       "blk.1.ffn_gate_inp.weight"},
  };
  int i = 0;
  for (const Case& c : cases) {
    WeightMap edited = w;
    json config = config_of(s);
    c.edit(edited, config);
    const std::string dir = (root / std::to_string(i++)).string();
    write_float_dir(dir, s, edited);
    write_config(dir, config);
    auto m = Model::load(dir);
    ASSERT_FALSE(m.ok()) << c.what;
    EXPECT_NE(m.status().message().find(c.message), std::string::npos)
        << c.what << ": " << m.status().to_string();
  }
}

}  // namespace
}  // namespace inferd::model

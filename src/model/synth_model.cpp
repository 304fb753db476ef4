#include "model/synth_model.h"

#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "backend/cpu/type_ops.h"
#include "format/gguf_writer.h"
#include "model/arch.h"

namespace inferd::model {
namespace {

using backend::DType;
using format::GgufArray;
using format::GgufType;
using format::GgufWriter;

// splitmix64: a small, fast, well-distributed generator; each tensor gets its own stream so the
// output does not depend on the order tensors are written in.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float uniform() { return static_cast<float>(static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0); }

 private:
  uint64_t state_;
};

uint64_t stream_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Uniform values with standard deviation `stddev`, converted to `type` row by row.
GgufWriter::FillFn random_matrix(DType type, int64_t cols, float stddev, uint64_t seed) {
  return [=](std::span<uint8_t> out) {
    const auto& ops = backend::cpu::type_ops(type, IsaLevel::kScalar);
    const size_t row_bytes = static_cast<size_t>(backend::dtype_bytes(type, cols));
    const float amplitude = stddev * std::sqrt(3.0f);
    std::vector<float> row(cols);
    Rng rng(seed);
    for (size_t off = 0; off < out.size(); off += row_bytes) {
      for (auto& v : row) v = rng.uniform() * amplitude;
      if (type == DType::kF32) std::memcpy(out.data() + off, row.data(), row_bytes);
      else ops.from_float(row.data(), out.data() + off, cols);
    }
  };
}

// Values uniform in [center - spread, center + spread) (norm weights, biases).
GgufWriter::FillFn random_vector(int64_t n, float center, float spread, uint64_t seed) {
  return [=](std::span<uint8_t> out) {
    Rng rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = center + spread * rng.uniform();
    std::memcpy(out.data(), v.data(), out.size());
  };
}

// A SentencePiece-style vocabulary: <unk> <s> </s>, the 256 byte tokens, then printable ASCII
// pieces with and without the word-start marker, then two- and three-letter combinations,
// scored so that shorter pieces merge first (as in trained vocabularies). Vocabularies larger
// than that end in unused tokens.
void add_vocab(GgufWriter& w, int64_t vocab) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};  // unknown, control, control
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(fmt::format("<0x{:02X}>", b));
    types.push_back(6);  // byte
  }
  const std::string marker = "\xe2\x96\x81";  // U+2581, the word-start marker
  std::vector<std::string> pieces;
  for (char c = 33; c < 127; ++c) pieces.push_back(std::string(1, c));
  for (char c = 33; c < 127; ++c) pieces.push_back(marker + c);
  pieces.push_back(marker);
  for (char a = 'a'; a <= 'z'; ++a)
    for (char b = 'a'; b <= 'z'; ++b) {
      pieces.push_back(std::string{a, b});
      pieces.push_back(marker + std::string{a, b});
    }
  for (char a = 'a'; a <= 'z' && static_cast<int64_t>(pieces.size()) < vocab; ++a)
    for (char b = 'a'; b <= 'z'; ++b)
      for (char c = 'a'; c <= 'z'; ++c) {
        pieces.push_back(std::string{a, b, c});
        pieces.push_back(marker + std::string{a, b, c});
      }
  for (size_t i = 0; i < pieces.size() && static_cast<int64_t>(tokens.size()) < vocab; ++i) {
    tokens.push_back(pieces[i]);
    types.push_back(1);  // normal
  }
  for (int64_t i = static_cast<int64_t>(tokens.size()); i < vocab; ++i) {
    tokens.push_back(fmt::format("<extra_{}>", i));
    types.push_back(5);  // unused
  }
  std::vector<float> scores(tokens.size(), 0.0f);
  for (size_t i = 259; i < tokens.size(); ++i) scores[i] = -static_cast<float>(i);

  GgufArray t;
  t.elem_type = GgufType::kString;
  t.items = std::move(tokens);
  GgufArray s;
  s.elem_type = GgufType::kF32;
  s.items = std::move(scores);
  GgufArray ty;
  ty.elem_type = GgufType::kI32;
  ty.items = std::move(types);
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string("tokenizer.ggml.pre", "default");
  w.set_array("tokenizer.ggml.tokens", std::move(t));
  w.set_array("tokenizer.ggml.scores", std::move(s));
  w.set_array("tokenizer.ggml.token_type", std::move(ty));
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_bool("tokenizer.ggml.add_eos_token", false);
}

}  // namespace

Status validate(const SynthOptions& o) {
  if (o.dim <= 0 || o.layers <= 0 || o.heads <= 0 || o.kv_heads <= 0 || o.ffn <= 0 || o.context <= 0)
    return invalid_argument("every dimension must be positive");
  if (o.vocab < 259) return invalid_argument("vocab must be at least 259 (control and byte tokens)");
  if (!find_arch(o.arch))
    return invalid_argument("unknown architecture '{}' (supported: {})", o.arch, supported_arch_names());
  if (o.head_dim == 0 && o.dim % o.heads != 0)
    return invalid_argument("dim {} is not a multiple of heads {}", o.dim, o.heads);
  if (o.heads % o.kv_heads != 0)
    return invalid_argument("heads {} is not a multiple of kv-heads {}", o.heads, o.kv_heads);
  const int64_t head_dim = o.head_dim > 0 ? o.head_dim : o.dim / o.heads;
  if (head_dim % 2 != 0 || head_dim < 0) return invalid_argument("head size {} must be even", head_dim);
  const auto& info = backend::dtype_info(o.type);
  if (!info.computable || !info.in_gguf || !backend::cpu::type_ops(o.type, IsaLevel::kScalar).from_float)
    return invalid_argument("cannot write weights of type {}", info.name);
  if (o.dim % info.block_elems != 0 || o.ffn % info.block_elems != 0 ||
      (o.heads * head_dim) % info.block_elems != 0)
    return invalid_argument("dim {}, ffn {} and heads x head size must be multiples of {} for type {}",
                            o.dim, o.ffn, info.block_elems, info.name);
  if (find_arch(o.arch)->moe) {
    if (o.experts <= 0 || o.experts_used <= 0 || o.experts_used > o.experts)
      return invalid_argument("experts {} and experts used {} must satisfy 1 <= used <= experts",
                              o.experts, o.experts_used);
    if (o.expert_ffn < 0 || o.expert_ffn % info.block_elems != 0)
      return invalid_argument("expert ffn {} must be a multiple of {} for type {}", o.expert_ffn,
                              info.block_elems, info.name);
  }
  return {};
}

Status write_synth_model(const SynthOptions& o, const std::string& path) {
  INFERD_RETURN_IF_ERROR(validate(o));
  const ArchSpec& arch = *find_arch(o.arch);
  const std::string a = o.arch + ".";
  const int64_t head_dim = o.head_dim > 0 ? o.head_dim : o.dim / o.heads;
  const int64_t q_dim = o.heads * head_dim;
  const int64_t kv_dim = o.kv_heads * head_dim;

  GgufWriter w;
  w.set_string("general.architecture", o.arch);
  w.set_string("general.name", o.name);
  w.set_u32(a + "context_length", static_cast<uint32_t>(o.context));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(o.dim));
  w.set_u32(a + "block_count", static_cast<uint32_t>(o.layers));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(o.ffn));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(o.heads));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(o.kv_heads));
  if (o.head_dim > 0) {
    w.set_u32(a + "attention.key_length", static_cast<uint32_t>(head_dim));
    w.set_u32(a + "attention.value_length", static_cast<uint32_t>(head_dim));
  }
  w.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_f32(a + "rope.freq_base", o.rope_base);
  if (o.rope_linear_factor > 1.0f) {
    w.set_string(a + "rope.scaling.type", "linear");
    w.set_f32(a + "rope.scaling.factor", o.rope_linear_factor);
  }
  if (o.sliding_window > 0) w.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(o.sliding_window));
  if (o.attn_softcap > 0) w.set_f32(a + "attn_logit_softcapping", o.attn_softcap);
  if (o.final_softcap > 0) w.set_f32(a + "final_logit_softcapping", o.final_softcap);
  const int64_t expert_ffn = o.expert_ffn > 0 ? o.expert_ffn : o.ffn;
  if (arch.moe) {
    w.set_u32(a + "expert_count", static_cast<uint32_t>(o.experts));
    w.set_u32(a + "expert_used_count", static_cast<uint32_t>(o.experts_used));
    w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(expert_ffn));
  }
  w.set_u32(a + "vocab_size", static_cast<uint32_t>(o.vocab));
  add_vocab(w, o.vocab);

  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols, float stddev) {
    w.add_tensor(name, o.type, {cols, rows}, random_matrix(o.type, cols, stddev, stream_seed(o.seed, name)));
  };
  auto vector = [&](const std::string& name, int64_t n, float spread = 0.1f, float center = 1.0f) {
    w.add_tensor(name, DType::kF32, {n}, random_vector(n, center, spread, stream_seed(o.seed, name)));
  };
  // Standard deviations keep activations of order one through the layers.
  const float in_std = 1.0f / std::sqrt(static_cast<float>(o.dim));
  const float attn_std = 1.0f / std::sqrt(static_cast<float>(q_dim));
  const float ffn_std = 1.0f / std::sqrt(static_cast<float>(o.ffn));
  matrix("token_embd.weight", o.vocab, o.dim, arch.embedding_scale ? in_std : 1.0f);
  for (int64_t il = 0; il < o.layers; ++il) {
    const std::string p = fmt::format("blk.{}.", il);
    vector(p + "attn_norm.weight", o.dim);
    if (arch.fused_qkv) {
      matrix(p + "attn_qkv.weight", q_dim + 2 * kv_dim, o.dim, in_std);
    } else {
      matrix(p + "attn_q.weight", q_dim, o.dim, in_std);
      matrix(p + "attn_k.weight", kv_dim, o.dim, in_std);
      matrix(p + "attn_v.weight", kv_dim, o.dim, in_std);
    }
    if (arch.qkv_bias) {
      vector(p + "attn_q.bias", q_dim, 0.5f, 0.0f);
      vector(p + "attn_k.bias", kv_dim, 0.5f, 0.0f);
      vector(p + "attn_v.bias", kv_dim, 0.5f, 0.0f);
    }
    if (arch.qk_norm) {
      vector(p + "attn_q_norm.weight", head_dim);
      vector(p + "attn_k_norm.weight", head_dim);
    }
    matrix(p + "attn_output.weight", o.dim, q_dim, attn_std);
    if (arch.post_norms) vector(p + "post_attention_norm.weight", o.dim);
    vector(p + "ffn_norm.weight", o.dim);
    if (arch.moe) {
      // The router's logits spread over a few units, so that routing is decisive.
      w.add_tensor(p + "ffn_gate_inp.weight", DType::kF32, {o.dim, o.experts},
                   random_matrix(DType::kF32, o.dim, 3.0f * in_std,
                                 stream_seed(o.seed, p + "ffn_gate_inp.weight")));
      for (const char* name : {"ffn_gate_exps.weight", "ffn_up_exps.weight"})
        w.add_tensor(p + name, o.type, {o.dim, expert_ffn, o.experts},
                     random_matrix(o.type, o.dim, in_std, stream_seed(o.seed, p + name)));
      w.add_tensor(
          p + "ffn_down_exps.weight", o.type, {expert_ffn, o.dim, o.experts},
          random_matrix(o.type, expert_ffn, 1.0f / std::sqrt(static_cast<float>(expert_ffn)),
                        stream_seed(o.seed, p + "ffn_down_exps.weight")));
    } else if (arch.fused_gate_up) {
      matrix(p + "ffn_up.weight", 2 * o.ffn, o.dim, in_std);
      matrix(p + "ffn_down.weight", o.dim, o.ffn, ffn_std);
    } else {
      matrix(p + "ffn_gate.weight", o.ffn, o.dim, in_std);
      matrix(p + "ffn_up.weight", o.ffn, o.dim, in_std);
      matrix(p + "ffn_down.weight", o.dim, o.ffn, ffn_std);
    }
    if (arch.post_norms) vector(p + "post_ffw_norm.weight", o.dim);
  }
  vector("output_norm.weight", o.dim);
  if (!arch.embedding_scale) matrix("output.weight", o.vocab, o.dim, 4.0f * in_std);  // gemma: tied
  return w.write(path);
}

}  // namespace inferd::model

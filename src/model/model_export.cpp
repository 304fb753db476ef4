#include "model/model_export.h"

#include <fmt/format.h>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "backend/cpu/type_ops.h"
#include "backend/mlx_affine.h"
#include "base/half.h"
#include "format/gguf_writer.h"
#include "format/safetensors_writer.h"
#include "model/hf_model_dir.h"
#include "model/hf_tensor_names.h"

namespace inferd::model {
namespace {

namespace fs = std::filesystem;
using backend::DType;
using format::SafetensorsDType;

bool is_norm(const std::string& name) {
  return name.ends_with("norm.weight");
}

// Matrices take the target weight type: 2-D weights and the stacked experts of sparse layers
// (3-D, one [rows x cols] matrix per expert).
bool is_matrix(const TensorInfo& t) {
  if (t.name.ends_with("_exps.weight")) return t.num_dims == 3;
  return t.num_dims == 2 && t.name.ends_with(".weight") && !is_norm(t.name);
}

// Where a target layout puts the q/k rows of one head: GGUF llama interleaves RoPE pairs
// (row 2i + t of a head is HF's row t * head_dim / 2 + i).
void permute_heads(std::vector<float>& w, int64_t rows, int64_t cols, int64_t num_heads,
                   bool to_interleaved) {
  const int64_t hd = rows / num_heads, half = hd / 2;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < num_heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t t = 0; t < 2; ++t) {
        const int64_t interleaved = h * hd + 2 * i + t, split = h * hd + t * half + i;
        const int64_t dst = to_interleaved ? interleaved : split,
                      src = to_interleaved ? split : interleaved;
        std::copy_n(w.begin() + src * cols, cols, out.begin() + dst * cols);
      }
  w = std::move(out);
}

// Whether load_converted() can convert `t`.
Status check_convertible(const Model& m, const TensorInfo& t, RopeStyle target_rope) {
  const auto& info = backend::dtype_info(t.type);
  if (!info.computable)
    return unsupported("tensor '{}' has type {}, which cannot be converted", t.name, info.name);
  if (!t.data)
    return invalid_argument(
        "tensor '{}' was released after packing; load the model with keep_tensors to convert it",
        t.name);
  const HParams& hp = m.hparams();
  if (hp.rope_style != target_rope && hp.n_rot != hp.head_dim_k)
    return unsupported("converting the RoPE layout of partial-rotary heads is not supported");
  return Status::ok_status();
}

// The tensor as f32 values in the layout of `target_rope` (and HF's norm form when hf_norms).
// REQUIRES check_convertible(m, t, target_rope).ok().
std::vector<float> load_converted(const Model& m, const TensorInfo& t, RopeStyle target_rope,
                                  bool hf_norms) {
  std::vector<float> w(static_cast<size_t>(t.num_elements()));
  backend::cpu::type_ops(t.type, IsaLevel::kScalar).to_float(t.data, w.data(), t.num_elements());
  const HParams& hp = m.hparams();
  if (hp.rope_style != target_rope) {
    const bool to_interleaved = target_rope == RopeStyle::kNormal;
    if (t.name.ends_with("attn_q.weight"))
      permute_heads(w, t.dims[1], t.dims[0], hp.n_head, to_interleaved);
    if (t.name.ends_with("attn_k.weight"))
      permute_heads(w, t.dims[1], t.dims[0], hp.n_head_kv, to_interleaved);
    if (t.name.ends_with("attn_q.bias")) permute_heads(w, t.dims[0], 1, hp.n_head, to_interleaved);
    if (t.name.ends_with("attn_k.bias"))
      permute_heads(w, t.dims[0], 1, hp.n_head_kv, to_interleaved);
  }
  if (hf_norms && hp.arch->hf_norm_plus_one && is_norm(t.name))
    for (float& v : w) v -= 1.0f;
  return w;
}

// LongRoPE factor lists: GGUF tensor name and config.json rope_scaling key.
struct LongRopeList {
  const char* tensor;
  const char* key;
};
constexpr LongRopeList kLongRopeLists[] = {{"rope_factors_long.weight", "long_factor"},
                                           {"rope_factors_short.weight", "short_factor"}};

// The source directory's config.json rope_scaling, or nullptr.
const nlohmann::json* source_rope_scaling(const Model& m) {
  if (!m.hf_dir()) return nullptr;
  const nlohmann::json& c = m.hf_dir()->config_json();
  const auto it = c.find("rope_scaling");
  return it != c.end() && it->is_object() ? &*it : nullptr;
}

// Per-frequency RoPE factors a format records in its own way (GGUF: factor tensors; config.json:
// rope_scaling lists or formula parameters), so they are not copied as tensors.
bool is_rope_factor_tensor(const Model& m, const TensorInfo& t) {
  if (t.name == "rope_freqs.weight")
    return m.hparams().rope_scaling == RopeScaling::kLongRope || source_rope_scaling(m) != nullptr;
  for (const LongRopeList& l : kLongRopeLists)
    if (t.name == l.tensor) return true;
  return false;
}

// config.json's RoPE scaling for a model whose per-frequency factors are not described by
// hf_config_json(): a directory's own rope_scaling (and original context) is kept as written;
// a GGUF LongRoPE model's factor tensors become the longrope lists.
Status write_rope_config(const Model& m, nlohmann::json& c) {
  const HParams& hp = m.hparams();
  if (const nlohmann::json* rs = source_rope_scaling(m)) {
    c["rope_scaling"] = *rs;
    const nlohmann::json& src = m.hf_dir()->config_json();
    if (src.contains("original_max_position_embeddings"))
      c["original_max_position_embeddings"] = src["original_max_position_embeddings"];
    return Status::ok_status();
  }
  if (hp.rope_scaling == RopeScaling::kLongRope) {
    nlohmann::json rs = {{"rope_type", "longrope"}, {"attention_factor", hp.rope_attn_factor}};
    for (const LongRopeList& l : kLongRopeLists) {
      const TensorInfo* t = m.tensors().find_tensor(l.tensor);
      if (!t) return invalid_argument("LongRoPE model without tensor '{}'", l.tensor);
      std::vector<float> v(static_cast<size_t>(t->num_elements()));
      backend::cpu::type_ops(t->type, IsaLevel::kScalar).to_float(t->data, v.data(), t->num_elements());
      rs[l.key] = v;
    }
    c["rope_scaling"] = rs;
    c["original_max_position_embeddings"] = hp.rope_orig_ctx;
    return Status::ok_status();
  }
  if (m.tensors().find_tensor("rope_freqs.weight"))
    return unsupported(
        "the per-frequency RoPE factors of this GGUF file cannot be written to config.json, which "
        "describes them by their formula's parameters");
  return Status::ok_status();
}

// GGUF factor tensors for a directory's LongRoPE lists.
Status add_longrope_tensors(const Model& m, format::GgufWriter& w) {
  const nlohmann::json* rs = source_rope_scaling(m);
  if (!rs) return Status::ok_status();  // a GGUF source: its tensors are copied
  for (const LongRopeList& l : kLongRopeLists) {
    const auto it = rs->find(l.key);
    if (it == rs->end() || !it->is_array()) return invalid_argument("longrope without \"{}\"", l.key);
    auto values = std::make_shared<std::vector<float>>(it->get<std::vector<float>>());
    const auto n = static_cast<int64_t>(values->size());
    w.add_tensor(l.tensor, DType::kF32, {n}, [values](std::span<uint8_t> out) {
      std::memcpy(out.data(), values->data(), values->size() * sizeof(float));
    });
  }
  return Status::ok_status();
}

void set_arch_metadata(const HParams& hp, format::GgufWriter& w) {
  const std::string a = std::string(hp.arch->gguf_name) + ".";
  w.set_string("general.architecture", std::string(hp.arch->gguf_name));
  w.set_string("general.name", hp.name);
  w.set_u32(a + "context_length", static_cast<uint32_t>(hp.n_ctx_train));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(hp.n_embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(hp.n_layer));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(hp.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(hp.n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(hp.n_head_kv));
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(hp.head_dim_k));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(hp.head_dim_v));
  w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(hp.n_rot));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", hp.norm_eps);
  w.set_f32(a + "rope.freq_base", hp.rope_base);
  w.set_u32(a + "vocab_size", static_cast<uint32_t>(hp.n_vocab));
  if (hp.rope_scaling != RopeScaling::kNone) {
    // LongRoPE has no scaling type in GGUF: its factor tensors mark it (export_gguf).
    if (hp.rope_scaling != RopeScaling::kLongRope) {
      w.set_string(a + "rope.scaling.type",
                   hp.rope_scaling == RopeScaling::kLinear ? "linear" : "yarn");
      w.set_f32(a + "rope.scaling.factor", hp.rope_scale_factor);
    }
    w.set_u32(a + "rope.scaling.original_context_length", static_cast<uint32_t>(hp.rope_orig_ctx));
    w.set_f32(a + "rope.scaling.attn_factor", hp.rope_attn_factor);
  }
  if (hp.arch->moe) {
    w.set_u32(a + "expert_count", static_cast<uint32_t>(hp.n_expert));
    w.set_u32(a + "expert_used_count", static_cast<uint32_t>(hp.n_expert_used));
    w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(hp.n_ff_expert));
    w.set_bool(a + "expert_weights_norm", hp.expert_weights_norm);
  }
  if (hp.sliding_window > 0)
    w.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(hp.sliding_window));
  if (hp.attn_softcap > 0) w.set_f32(a + "attn_logit_softcapping", hp.attn_softcap);
  if (hp.final_softcap > 0) w.set_f32(a + "final_logit_softcapping", hp.final_softcap);
}

float round_f16(float v) {
  return f16_to_f32(f32_to_f16(v));
}

std::vector<uint8_t> as_bytes(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return std::vector<uint8_t>(b, b + n);
}

std::vector<uint8_t> encode_float(const std::vector<float>& w, SafetensorsDType type) {
  if (type == SafetensorsDType::kF32) return as_bytes(w.data(), w.size() * 4);
  std::vector<uint16_t> h(w.size());
  for (size_t i = 0; i < w.size(); ++i)
    h[i] = type == SafetensorsDType::kF16 ? f32_to_f16(w[i]) : f32_to_bf16(w[i]);
  return as_bytes(h.data(), h.size() * 2);
}

Status write_json(const fs::path& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  out.close();
  if (!out) return io_error("{}: write failed", path.string());
  return Status::ok_status();
}

// The shortest decimal that reads back as `v` (1e-05 rather than 9.999999747378752e-06).
double shortest(float v) { return std::stod(fmt::format("{}", v)); }

nlohmann::json hf_config_json(const HParams& hp, bool tied, std::string_view dtype) {
  nlohmann::json c;
  c["architectures"] = {std::string(hp.arch->hf_classes[0])};
  c["model_type"] = std::string(hp.arch->gguf_name);
  c["hidden_size"] = hp.n_embd;
  c["num_hidden_layers"] = hp.n_layer;
  c["intermediate_size"] = hp.n_ff;
  c["num_attention_heads"] = hp.n_head;
  c["num_key_value_heads"] = hp.n_head_kv;
  c["head_dim"] = hp.head_dim_k;
  c["vocab_size"] = hp.n_vocab;
  c["max_position_embeddings"] = hp.n_ctx_train;
  c["rms_norm_eps"] = shortest(hp.norm_eps);
  c["rope_theta"] = shortest(hp.rope_base);
  c["tie_word_embeddings"] = tied;
  c["torch_dtype"] = dtype;
  // 1 / attn_scale^2, exact when it is a whole number (it is the head size or n_embd / n_head).
  const double query_scalar = 1.0 / (static_cast<double>(hp.attn_scale) * hp.attn_scale);
  c["query_pre_attn_scalar"] = std::fabs(query_scalar - std::round(query_scalar)) < 1e-3
                                   ? nlohmann::json(std::llround(query_scalar))
                                   : nlohmann::json(query_scalar);
  if (hp.arch->moe) {
    c["num_experts"] = hp.n_expert;
    c["num_experts_per_tok"] = hp.n_expert_used;
    c["moe_intermediate_size"] = hp.n_ff_expert;
    c["norm_topk_prob"] = hp.expert_weights_norm;
    c["decoder_sparse_step"] = 1;
    std::vector<int64_t> dense;
    for (int64_t il = 0; il < hp.n_layer; ++il)
      if (!hp.is_moe_layer(il)) dense.push_back(il);
    c["mlp_only_layers"] = dense;
  }
  if (hp.n_rot != hp.head_dim_k)
    c["partial_rotary_factor"] = static_cast<double>(hp.n_rot) / hp.head_dim_k;
  if (hp.arch->local_rope_base > 0) c["rope_local_base_freq"] = shortest(hp.rope_base_local);
  if (hp.sliding_window > 0) c["sliding_window"] = hp.sliding_window;
  if (hp.attn_softcap > 0) c["attn_logit_softcapping"] = hp.attn_softcap;
  if (hp.final_softcap > 0) c["final_logit_softcapping"] = hp.final_softcap;
  if (hp.rope_scaling == RopeScaling::kLinear) {
    c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", hp.rope_scale_factor}};
  } else if (hp.rope_scaling == RopeScaling::kDynamic) {
    c["rope_scaling"] = {{"rope_type", "dynamic"},
                         {"factor", hp.rope_scale_factor},
                         {"original_max_position_embeddings", hp.rope_orig_ctx}};
  } else if (hp.rope_scaling == RopeScaling::kYarn) {
    c["rope_scaling"] = {{"rope_type", "yarn"},
                         {"factor", hp.rope_scale_factor},
                         {"original_max_position_embeddings", hp.rope_orig_ctx},
                         {"attention_factor", hp.rope_attn_factor},
                         {"beta_fast", hp.yarn_beta_fast},
                         {"beta_slow", hp.yarn_beta_slow}};
  }
  return c;
}

}  // namespace

Status export_gguf(const Model& m, DType type, const std::string& out_path) {
  const auto& info = backend::dtype_info(type);
  if (!info.computable || !info.in_gguf ||
      !backend::cpu::type_ops(type, IsaLevel::kScalar).from_float)
    return invalid_argument("cannot write GGUF weights of type {}", info.name);
  const RopeScaling scaling = m.hparams().rope_scaling;
  if (scaling == RopeScaling::kDynamic)
    return unsupported("GGUF files cannot record dynamic RoPE scaling");
  format::GgufWriter w;
  if (const format::GgufFile* src = m.gguf()) {
    // The writer lays data out at its own alignment, so the source's is not copied.
    for (const auto& [key, value] : src->metadata())
      if (key != "general.alignment") w.set(key, value);
  } else {
    set_arch_metadata(m.hparams(), w);
    if (!m.eos_token_ids().empty())
      w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(m.eos_token_ids()[0]));
  }
  const RopeStyle target = m.hparams().arch->rope;
  if (scaling == RopeScaling::kLongRope) INFERD_RETURN_IF_ERROR(add_longrope_tensors(m, w));
  for (const TensorInfo& t : m.tensors().tensors()) {
    // A directory's LongRoPE factors went in as the two lists above.
    if (!m.gguf() && scaling == RopeScaling::kLongRope && t.name == "rope_freqs.weight") continue;
    const DType out_type = is_matrix(t) && t.dims[0] % info.block_elems == 0 ? type : DType::kF32;
    std::vector<int64_t> dims(t.dims.begin(), t.dims.begin() + t.num_dims);
    INFERD_RETURN_IF_ERROR(check_convertible(m, t, target));
    const Model* model = &m;
    const TensorInfo* tensor = &t;
    w.add_tensor(t.name, out_type, dims, [model, tensor, out_type, target](std::span<uint8_t> out) {
      const std::vector<float> values = load_converted(*model, *tensor, target, /*hf_norms=*/false);
      const auto& ops = backend::cpu::type_ops(out_type, IsaLevel::kScalar);
      const int64_t cols = tensor->dims[0], rows = tensor->num_elements() / cols;
      const size_t row_bytes = static_cast<size_t>(backend::dtype_bytes(out_type, cols));
      for (int64_t r = 0; r < rows; ++r)
        ops.from_float(values.data() + r * cols, out.data() + r * row_bytes, cols);
    });
  }
  return w.write(out_path);
}

std::optional<HfDirFormat> parse_hf_dir_format(std::string_view name) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16})
    if (name == backend::dtype_name(t)) return HfDirFormat{t, std::nullopt};
  int bits = 0, group = 0;
  char tail = 0;
  const std::string s(name);
  if (std::sscanf(s.c_str(), "mlx_q%d_g%d%c", &bits, &group, &tail) != 2) return std::nullopt;
  const backend::MlxAffineSpec spec{bits, group};
  if (!backend::mlx_affine_spec_valid(spec) || s != fmt::format("mlx_q{}_g{}", bits, group))
    return std::nullopt;
  return HfDirFormat{DType::kF32, spec};
}

Status export_hf_dir(const Model& m, const HfDirFormat& format, const std::string& out_dir) {
  const HParams& hp = m.hparams();
  const auto& spec = format.quant;
  SafetensorsDType float_type = SafetensorsDType::kF32;
  if (format.float_type == DType::kF16)
    float_type = SafetensorsDType::kF16;
  else if (format.float_type == DType::kBF16)
    float_type = SafetensorsDType::kBF16;
  else if (format.float_type != DType::kF32)
    return invalid_argument("model directories hold f32, f16 or bf16 weights, not {}",
                            backend::dtype_name(format.float_type));
  nlohmann::json rope = nlohmann::json::object();
  INFERD_RETURN_IF_ERROR(write_rope_config(m, rope));
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return io_error("{}: cannot create: {}", out_dir, ec.message());

  format::SafetensorsWriter st;
  st.set_metadata("format", "mlx");
  nlohmann::json quant;
  if (spec) quant = {{"group_size", spec->group_size}, {"bits", spec->bits}};
  for (const TensorInfo& t : m.tensors().tensors()) {
    if (is_rope_factor_tensor(m, t)) continue;  // described by config.json
    const auto hf_name = internal_to_hf_name(*hp.arch, t.name);
    if (!hf_name) return unsupported("tensor '{}' has no Hugging Face name", t.name);
    INFERD_RETURN_IF_ERROR(check_convertible(m, t, RopeStyle::kNeox));
    std::vector<float> w = load_converted(m, t, RopeStyle::kNeox, /*hf_norms=*/true);
    std::vector<int64_t> shape;
    for (int d = t.num_dims - 1; d >= 0; --d) shape.push_back(t.dims[d]);
    const int64_t cols = t.dims[0];
    if (spec && is_matrix(t) && cols % spec->group_size == 0) {
      // All rows of the tensor (of every expert for stacked experts) are quantized alike.
      const int64_t rows = t.num_rows(), groups = cols / spec->group_size;
      std::vector<uint8_t> codes(static_cast<size_t>(rows * cols * spec->bits / 8));
      std::vector<float> scales(rows * groups), biases(rows * groups);
      for (int64_t r = 0; r < rows; ++r)
        backend::mlx_quantize_row(w.data() + r * cols, cols, *spec, round_f16,
                                  codes.data() + r * cols * spec->bits / 8,
                                  scales.data() + r * groups, biases.data() + r * groups);
      const std::string module = hf_name->substr(0, hf_name->size() - 7);  // without ".weight"
      std::vector<int64_t> code_shape = shape, param_shape = shape;
      code_shape.back() = cols * spec->bits / 32;
      param_shape.back() = groups;
      st.add(*hf_name, SafetensorsDType::kU32, code_shape, std::move(codes));
      st.add(module + ".scales", SafetensorsDType::kF16, param_shape,
             encode_float(scales, SafetensorsDType::kF16));
      st.add(module + ".biases", SafetensorsDType::kF16, param_shape,
             encode_float(biases, SafetensorsDType::kF16));
      continue;
    }
    if (spec && is_matrix(t)) quant[hf_name->substr(0, hf_name->size() - 7)] = false;
    st.add(*hf_name, spec ? SafetensorsDType::kF32 : float_type, shape,
           encode_float(w, spec ? SafetensorsDType::kF32 : float_type));
  }
  const bool tied = m.tensors().find_tensor("output.weight") == nullptr;
  const char* dtype = float_type == SafetensorsDType::kBF16  ? "bfloat16"
                      : float_type == SafetensorsDType::kF16 ? "float16"
                                                             : "float32";
  nlohmann::json config = hf_config_json(hp, tied, spec ? "float16" : dtype);
  config.update(rope);
  if (spec) {
    config["quantization"] = quant;
    config["quantization_config"] = quant;
  }
  std::vector<int32_t> eos = m.eos_token_ids();
  if (eos.empty() && m.gguf())
    if (auto id = m.gguf()->get_int("tokenizer.ggml.eos_token_id"); id.ok())
      eos.push_back(static_cast<int32_t>(*id));
  INFERD_RETURN_IF_ERROR(st.write((fs::path(out_dir) / "model.safetensors").string()));
  INFERD_RETURN_IF_ERROR(write_json(fs::path(out_dir) / "config.json", config));
  if (!eos.empty()) {
    nlohmann::json gen = {
        {"eos_token_id", eos.size() == 1 ? nlohmann::json(eos[0]) : nlohmann::json(eos)}};
    INFERD_RETURN_IF_ERROR(write_json(fs::path(out_dir) / "generation_config.json", gen));
  }
  return Status::ok_status();
}

}  // namespace inferd::model

#include "model/hf_config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

namespace inferd::model {
namespace {

using json = nlohmann::json;

// Field accessors: the value, the fallback when absent or null, an error for a wrong type.
Result<int64_t> get_int(const json& j, const char* key, std::optional<int64_t> fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (fallback) return *fallback;
    return invalid_argument("config.json: \"{}\" is missing", key);
  }
  if (!it->is_number_integer())
    return invalid_argument("config.json: \"{}\" is not an integer", key);
  return it->get<int64_t>();
}

Result<double> get_number(const json& j, const char* key, double fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number()) return invalid_argument("config.json: \"{}\" is not a number", key);
  return it->get<double>();
}

Result<bool> get_bool(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return invalid_argument("config.json: \"{}\" is not a boolean", key);
  return it->get<bool>();
}

// Qwen3-MoE: which layers are sparse, as the published modeling code decides it (a layer is
// sparse unless listed in mlp_only_layers, when num_experts > 0 and (layer + 1) is a multiple of
// decoder_sparse_step), and the experts' shape. REQUIRES hp->n_layer was read and is plausible.
Status read_moe(const json& j, HParams* hp) {
  INFERD_ASSIGN_OR_RETURN(hp->n_expert, get_int(j, "num_experts", std::nullopt));
  INFERD_ASSIGN_OR_RETURN(hp->n_expert_used, get_int(j, "num_experts_per_tok", std::nullopt));
  INFERD_ASSIGN_OR_RETURN(hp->n_ff_expert, get_int(j, "moe_intermediate_size", std::nullopt));
  INFERD_ASSIGN_OR_RETURN(hp->expert_weights_norm, get_bool(j, "norm_topk_prob", false));
  INFERD_ASSIGN_OR_RETURN(int64_t step, get_int(j, "decoder_sparse_step", 1));
  if (step <= 0)
    return invalid_argument("config.json: decoder_sparse_step {} must be positive", step);
  if (hp->n_expert < 0)
    return invalid_argument("config.json: num_experts {} is negative", hp->n_expert);
  if (hp->n_layer <= 0 || hp->n_layer > 4096)
    return invalid_argument("config.json: num_hidden_layers {} is out of range", hp->n_layer);
  hp->moe_layers.assign(hp->n_layer, 0);
  for (int64_t il = 0; il < hp->n_layer; ++il)
    hp->moe_layers[il] = hp->n_expert > 0 && (il + 1) % step == 0;
  if (auto it = j.find("mlp_only_layers"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return invalid_argument("config.json: mlp_only_layers is not a list");
    for (const json& v : *it) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= hp->n_layer)
        return invalid_argument(
            "config.json: mlp_only_layers holds {}, not a layer index in [0, {})", v.dump(),
            hp->n_layer);
      hp->moe_layers[v.get<int64_t>()] = 0;
    }
  }
  return Status::ok_status();
}

void append_ids(const json& v, std::vector<int32_t>* out) {
  if (v.is_number_integer()) {
    out->push_back(static_cast<int32_t>(v.get<int64_t>()));
  } else if (v.is_array()) {
    for (const json& e : v)
      if (e.is_number_integer()) out->push_back(static_cast<int32_t>(e.get<int64_t>()));
  }
}

// Llama 3 frequency divisors, from the published rope_scaling formula: wavelengths shorter than
// original_ctx / high_freq_factor are kept, longer than original_ctx / low_freq_factor divided
// by factor, and the ones between interpolated smoothly.
std::vector<float> llama3_freq_factors(const HParams& hp, double factor, double low, double high,
                                       double orig_ctx) {
  std::vector<float> out(hp.n_rot / 2);
  const double low_wavelen = orig_ctx / low, high_wavelen = orig_ctx / high;
  for (int64_t i = 0; i < hp.n_rot / 2; ++i) {
    const double freq = std::pow(static_cast<double>(hp.rope_base), -2.0 * i / hp.n_rot);
    const double wavelen = 2.0 * std::numbers::pi / freq;
    double divisor = 1.0;
    if (wavelen > low_wavelen) {
      divisor = factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth = (orig_ctx / wavelen - low) / (high - low);
      divisor = 1.0 / ((1.0 - smooth) / factor + smooth);
    }
    out[i] = static_cast<float>(divisor);
  }
  return out;
}

// A list of n_rot / 2 positive per-frequency factors (LongRoPE's short_factor / long_factor).
Result<std::vector<float>> read_factor_list(const json& rs, const char* key, int64_t n_rot) {
  auto it = rs.find(key);
  if (it == rs.end() || !it->is_array())
    return invalid_argument("config.json: longrope rope_scaling needs a \"{}\" list", key);
  if (static_cast<int64_t>(it->size()) != n_rot / 2)
    return invalid_argument(
        "config.json: rope_scaling \"{}\" has {} values, expected {} (half the rotary dimensions)",
        key, it->size(), n_rot / 2);
  std::vector<float> out;
  for (const json& v : *it) {
    if (!v.is_number() || !(v.get<double>() > 0))
      return invalid_argument("config.json: rope_scaling \"{}\" holds {}, not a positive number",
                              key, v.dump());
    out.push_back(static_cast<float>(v.get<double>()));
  }
  return out;
}

// LongRoPE (Phi-3 128k), following the published formulas: inverse frequencies divided by
// per-frequency factors, cos/sin scaled by the attention factor, by default
// sqrt(1 + ln(factor) / ln(original_max_position_embeddings)) with factor =
// max_position_embeddings / original_max_position_embeddings when the config has a top-level
// original_max_position_embeddings (Phi-3), else rope_scaling's "factor".
//
// Which factors: the reference picks long_factor for sequences longer than the original context
// and short_factor otherwise, but cached keys cannot be re-rotated when a sequence grows past
// it. inferd decides once per model, by the model's context: long_factor when
// max_position_embeddings exceeds original_max_position_embeddings (a 128k model always uses the
// long factors, as llama.cpp does when serving it at its full context), short_factor otherwise.
Status read_longrope(const json& j, const json& rs, HfConfig* c) {
  HParams& hp = c->hp;
  INFERD_ASSIGN_OR_RETURN(double factor, get_number(rs, "factor", 1.0));
  INFERD_ASSIGN_OR_RETURN(int64_t orig_ctx,
                          get_int(rs, "original_max_position_embeddings", hp.n_ctx_train));
  if (j.contains("original_max_position_embeddings")) {
    INFERD_ASSIGN_OR_RETURN(orig_ctx, get_int(j, "original_max_position_embeddings", std::nullopt));
    if (orig_ctx <= 0)
      return invalid_argument("config.json: original_max_position_embeddings must be positive");
    factor = static_cast<double>(hp.n_ctx_train) / static_cast<double>(orig_ctx);
  }
  if (orig_ctx <= 1 || !(factor > 0))
    return invalid_argument("config.json: longrope needs a factor > 0 and an original context > 1");
  INFERD_ASSIGN_OR_RETURN(std::vector<float> short_factor,
                          read_factor_list(rs, "short_factor", hp.n_rot));
  INFERD_ASSIGN_OR_RETURN(std::vector<float> long_factor,
                          read_factor_list(rs, "long_factor", hp.n_rot));
  INFERD_ASSIGN_OR_RETURN(double attn, get_number(rs, "attention_factor", 0.0));
  if (attn < 0) return invalid_argument("config.json: negative rope_scaling attention_factor");
  if (attn == 0)
    attn = factor <= 1.0
               ? 1.0
               : std::sqrt(1.0 + std::log(factor) / std::log(static_cast<double>(orig_ctx)));
  hp.rope_scaling = RopeScaling::kLongRope;
  hp.rope_scale_factor = static_cast<float>(factor);
  hp.rope_orig_ctx = orig_ctx;
  hp.rope_attn_factor = static_cast<float>(attn);
  c->rope_freq_factors = hp.n_ctx_train > orig_ctx ? long_factor : short_factor;
  return Status::ok_status();
}

Status read_rope_scaling(const json& j, const json& rs, HfConfig* c) {
  HParams& hp = c->hp;
  if (rs.is_null()) return Status::ok_status();
  if (!rs.is_object()) return invalid_argument("config.json: rope_scaling is not an object");
  std::string type = "default";
  for (const char* key : {"rope_type", "type"})
    if (auto it = rs.find(key); it != rs.end() && it->is_string()) {
      type = it->get<std::string>();
      break;
    }
  if (type == "default") return Status::ok_status();
  // "su" is the name early Phi-3 configs used for LongRoPE.
  if (type == "longrope" || type == "su") return read_longrope(j, rs, c);
  INFERD_ASSIGN_OR_RETURN(double factor, get_number(rs, "factor", 1.0));
  INFERD_ASSIGN_OR_RETURN(int64_t orig_ctx,
                          get_int(rs, "original_max_position_embeddings", hp.n_ctx_train));
  if (!(factor > 0) || orig_ctx <= 0)
    return invalid_argument("config.json: invalid rope_scaling factor");
  if (type == "linear") {
    if (factor > 1.0) {
      hp.rope_scaling = RopeScaling::kLinear;
      hp.rope_scale_factor = static_cast<float>(factor);
    }
  } else if (type == "yarn") {
    if (factor > 1.0) {
      hp.rope_scaling = RopeScaling::kYarn;
      hp.rope_scale_factor = static_cast<float>(factor);
      hp.rope_orig_ctx = orig_ctx;
      INFERD_ASSIGN_OR_RETURN(double attn, get_number(rs, "attention_factor", 0.0));
      hp.rope_attn_factor =
          attn > 0 ? static_cast<float>(attn) : 0.1f * std::log(hp.rope_scale_factor) + 1.0f;
      INFERD_ASSIGN_OR_RETURN(double fast, get_number(rs, "beta_fast", 32.0));
      INFERD_ASSIGN_OR_RETURN(double slow, get_number(rs, "beta_slow", 1.0));
      hp.yarn_beta_fast = static_cast<float>(fast);
      hp.yarn_beta_slow = static_cast<float>(slow);
    }
  } else if (type == "dynamic") {
    if (hp.n_rot <= 2)
      return invalid_argument(
          "config.json: dynamic rope_scaling needs more than 2 rotary dimensions");
    if (factor > 1.0) {
      hp.rope_scaling = RopeScaling::kDynamic;
      hp.rope_scale_factor = static_cast<float>(factor);
      hp.rope_orig_ctx = orig_ctx;
    }
  } else if (type == "llama3") {
    INFERD_ASSIGN_OR_RETURN(double low, get_number(rs, "low_freq_factor", 1.0));
    INFERD_ASSIGN_OR_RETURN(double high, get_number(rs, "high_freq_factor", 4.0));
    if (!(high > low) || !(low > 0))
      return invalid_argument(
          "config.json: llama3 rope_scaling needs high_freq_factor > low_freq_factor > 0");
    c->rope_freq_factors =
        llama3_freq_factors(hp, factor, low, high, static_cast<double>(orig_ctx));
  } else {
    return unsupported(
        "rope_scaling type '{}' is not supported (default, linear, dynamic, yarn, llama3, "
        "longrope)",
        type);
  }
  return Status::ok_status();
}

}  // namespace

Result<HfConfig> parse_hf_config(const json& root, const json* generation_config,
                                 std::string name) {
  if (!root.is_object()) return invalid_argument("config.json: not a JSON object");
  auto archs = root.find("architectures");
  if (archs == root.end() || !archs->is_array() || archs->empty() || !(*archs)[0].is_string())
    return invalid_argument("config.json: \"architectures\" must name the model class");
  const std::string cls = (*archs)[0].get<std::string>();
  HfConfig c;
  HParams& hp = c.hp;
  hp.arch = find_arch_by_hf_class(cls);
  if (!hp.arch) return unsupported("model class '{}' is not supported", cls);
  hp.rope_style = RopeStyle::kNeox;
  hp.name = std::move(name);
  // Multimodal checkpoints keep the language model's fields under text_config.
  const json& j =
      root.contains("text_config") && root["text_config"].is_object() ? root["text_config"] : root;

  INFERD_ASSIGN_OR_RETURN(hp.n_embd, get_int(j, "hidden_size", std::nullopt));
  INFERD_ASSIGN_OR_RETURN(hp.n_layer, get_int(j, "num_hidden_layers", std::nullopt));
  INFERD_ASSIGN_OR_RETURN(hp.n_ff, get_int(j, "intermediate_size", std::nullopt));
  INFERD_ASSIGN_OR_RETURN(hp.n_head, get_int(j, "num_attention_heads", std::nullopt));
  INFERD_ASSIGN_OR_RETURN(hp.n_head_kv, get_int(j, "num_key_value_heads", hp.n_head));
  INFERD_ASSIGN_OR_RETURN(hp.n_vocab, get_int(j, "vocab_size", std::nullopt));
  INFERD_ASSIGN_OR_RETURN(hp.n_ctx_train, get_int(j, "max_position_embeddings", 2048));
  if (hp.n_head <= 0) return invalid_argument("config.json: num_attention_heads must be positive");
  INFERD_ASSIGN_OR_RETURN(hp.head_dim_k, get_int(j, "head_dim", hp.n_embd / hp.n_head));
  hp.head_dim_v = hp.head_dim_k;
  INFERD_ASSIGN_OR_RETURN(double partial, get_number(j, "partial_rotary_factor", 1.0));
  if (!(partial > 0.0 && partial <= 1.0))
    return invalid_argument("config.json: partial_rotary_factor out of range");
  hp.n_rot = static_cast<int64_t>(std::llround(static_cast<double>(hp.head_dim_k) * partial));
  if (hp.arch->moe) INFERD_RETURN_IF_ERROR(read_moe(j, &hp));
  INFERD_RETURN_IF_ERROR(hp.validate());
  if (hp.n_vocab <= 0 || hp.n_vocab > (int64_t{1} << 24))
    return invalid_argument("config.json: vocab_size {} is out of range", hp.n_vocab);

  INFERD_ASSIGN_OR_RETURN(double eps, get_number(j, "rms_norm_eps", 1e-6));
  INFERD_ASSIGN_OR_RETURN(double theta, get_number(j, "rope_theta", 10000.0));
  if (!(eps > 0) || !(theta > 0))
    return invalid_argument("config.json: rms_norm_eps and rope_theta must be positive");
  hp.norm_eps = static_cast<float>(eps);
  hp.rope_base = static_cast<float>(theta);
  INFERD_ASSIGN_OR_RETURN(
      double local_theta,
      get_number(j, "rope_local_base_freq",
                 hp.arch->local_rope_base > 0 ? hp.arch->local_rope_base : theta));
  hp.rope_base_local = static_cast<float>(local_theta);
  hp.rope_orig_ctx = hp.n_ctx_train;
  if (auto rs = j.find("rope_scaling"); rs != j.end()) {
    INFERD_RETURN_IF_ERROR(read_rope_scaling(j, *rs, &c));
  }

  if (hp.arch->sliding != SlidingLayers::kNone) {
    INFERD_ASSIGN_OR_RETURN(hp.sliding_window, get_int(j, "sliding_window", 0));
    if (hp.sliding_window < 0) return invalid_argument("config.json: negative sliding_window");
  }
  INFERD_ASSIGN_OR_RETURN(double attn_cap, get_number(j, "attn_logit_softcapping", 0.0));
  INFERD_ASSIGN_OR_RETURN(double final_cap, get_number(j, "final_logit_softcapping", 0.0));
  if (attn_cap < 0 || final_cap < 0)
    return invalid_argument("config.json: negative soft-capping value");
  hp.attn_softcap = static_cast<float>(attn_cap);
  hp.final_softcap = static_cast<float>(final_cap);
  INFERD_ASSIGN_OR_RETURN(double query_scalar, get_number(j, "query_pre_attn_scalar",
                                                          static_cast<double>(hp.head_dim_k)));
  if (!(query_scalar > 0))
    return invalid_argument("config.json: query_pre_attn_scalar must be positive");
  hp.attn_scale = static_cast<float>(1.0 / std::sqrt(query_scalar));

  for (const json* obj : {&j, &root})
    if (auto tie = obj->find("tie_word_embeddings"); tie != obj->end() && tie->is_boolean()) {
      c.tie_word_embeddings = tie->get<bool>();
      break;
    }

  const json* q = nullptr;
  for (const char* key : {"quantization", "quantization_config"})
    if (auto it = root.find(key); it != root.end() && !it->is_null()) {
      q = &*it;
      break;
    }
  if (q) {
    INFERD_ASSIGN_OR_RETURN(c.quant, parse_mlx_quant_config(*q));
  }

  if (generation_config && generation_config->is_object())
    if (auto e = generation_config->find("eos_token_id"); e != generation_config->end())
      append_ids(*e, &c.eos_token_ids);
  if (c.eos_token_ids.empty())
    if (auto e = j.find("eos_token_id"); e != j.end()) append_ids(*e, &c.eos_token_ids);
  return c;
}

}  // namespace inferd::model

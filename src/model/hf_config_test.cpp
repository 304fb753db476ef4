#include "model/hf_config.h"

#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/hf_tensor_names.h"

namespace inferd::model {
namespace {

using json = nlohmann::json;

json llama_config() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "hidden_size": 256, "num_hidden_layers": 2,
    "intermediate_size": 512, "num_attention_heads": 8, "num_key_value_heads": 2,
    "vocab_size": 1000, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5,
    "rope_theta": 500000.0, "tie_word_embeddings": true, "eos_token_id": 5})");
}

TEST(HfConfig, ReadsLlama) {
  auto c = parse_hf_config(llama_config(), nullptr, "m");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  const HParams& hp = c->hp;
  EXPECT_EQ(hp.arch->gguf_name, "llama");
  EXPECT_EQ(hp.rope_style, RopeStyle::kNeox);
  EXPECT_EQ(hp.n_embd, 256);
  EXPECT_EQ(hp.n_head_kv, 2);
  EXPECT_EQ(hp.head_dim_k, 32);
  EXPECT_EQ(hp.n_rot, 32);
  EXPECT_EQ(hp.n_vocab, 1000);
  EXPECT_FLOAT_EQ(hp.rope_base, 500000.0f);
  EXPECT_FLOAT_EQ(hp.attn_scale, 1.0f / std::sqrt(32.0f));
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_FALSE(c->quant.has_value());
  EXPECT_EQ(c->eos_token_ids, std::vector<int32_t>{5});
}

TEST(HfConfig, GenerationConfigEosWins) {
  const json gen = json::parse(R"({"eos_token_id": [7, 9]})");
  auto c = parse_hf_config(llama_config(), &gen, "m");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->eos_token_ids, (std::vector<int32_t>{7, 9}));
}

TEST(HfConfig, RopeScalingVariants) {
  json j = llama_config();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
  auto c = parse_hf_config(j, nullptr, "m");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hp.rope_scaling, RopeScaling::kLinear);
  EXPECT_FLOAT_EQ(c->hp.rope_scale_factor, 4.0f);

  j["rope_scaling"] = {
      {"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 1024}};
  c = parse_hf_config(j, nullptr, "m");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hp.rope_scaling, RopeScaling::kYarn);
  EXPECT_EQ(c->hp.rope_orig_ctx, 1024);
  EXPECT_NEAR(c->hp.rope_attn_factor, 0.1f * std::log(4.0f) + 1.0f, 1e-6f);

  j["rope_scaling"] = {{"rope_type", "llama3"},
                       {"factor", 8.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  c = parse_hf_config(j, nullptr, "m");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hp.rope_scaling, RopeScaling::kNone);
  ASSERT_EQ(c->rope_freq_factors.size(), 16u);
  EXPECT_FLOAT_EQ(c->rope_freq_factors.front(), 1.0f);  // highest frequency kept
  EXPECT_FLOAT_EQ(c->rope_freq_factors.back(), 8.0f);   // lowest divided by factor

  j["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 2.0}};
  c = parse_hf_config(j, nullptr, "m");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->hp.rope_scaling, RopeScaling::kDynamic);
  EXPECT_FLOAT_EQ(c->hp.rope_scale_factor, 2.0f);
  EXPECT_EQ(c->hp.rope_orig_ctx, 4096);

  j["rope_scaling"] = {{"rope_type", "su2"}, {"factor", 4.0}};
  EXPECT_EQ(parse_hf_config(j, nullptr, "m").status().code(), StatusCode::kUnsupported);
  j["rope_scaling"] = nullptr;
  EXPECT_TRUE(parse_hf_config(j, nullptr, "m").ok());
}

TEST(HfConfig, ReadsMlxQuantization) {
  json j = llama_config();
  j["quantization"] = json::parse(R"({"group_size": 64, "bits": 4,
      "model.layers.0.mlp.down_proj": {"group_size": 32, "bits": 8},
      "lm_head": false})");
  auto c = parse_hf_config(j, nullptr, "m");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  ASSERT_TRUE(c->quant.has_value());
  EXPECT_EQ(c->quant->spec_for("model.layers.1.mlp.down_proj")->bits, 4);
  EXPECT_EQ(c->quant->spec_for("model.layers.0.mlp.down_proj")->bits, 8);
  EXPECT_EQ(c->quant->spec_for("model.layers.0.mlp.down_proj")->group_size, 32);
  EXPECT_FALSE(c->quant->spec_for("lm_head").has_value());

  j["quantization"] = {{"group_size", 64}, {"bits", 7}};
  EXPECT_FALSE(parse_hf_config(j, nullptr, "m").ok());
  j["quantization"] = {{"group_size", 48}, {"bits", 4}};
  EXPECT_FALSE(parse_hf_config(j, nullptr, "m").ok());
  j.erase("quantization");
  j["quantization_config"] = {{"quant_method", "gptq"}, {"bits", 4}, {"group_size", 128}};
  EXPECT_EQ(parse_hf_config(j, nullptr, "m").status().code(), StatusCode::kUnsupported);
}

TEST(HfConfig, ChoosesFamilyRowsAndGemmaFields) {
  json j = llama_config();
  j["architectures"] = {"Gemma2ForCausalLM"};
  j["query_pre_attn_scalar"] = 144;
  j["sliding_window"] = 4096;
  j["final_logit_softcapping"] = 30.0;
  auto c = parse_hf_config(j, nullptr, "m");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hp.arch->gguf_name, "gemma2");
  EXPECT_FLOAT_EQ(c->hp.attn_scale, 1.0f / 12.0f);
  EXPECT_EQ(c->hp.sliding_window, 4096);
  EXPECT_FLOAT_EQ(c->hp.final_softcap, 30.0f);
  for (const char* cls : {"MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
                          "Gemma3ForCausalLM", "Phi3ForCausalLM"}) {
    j["architectures"] = {cls};
    EXPECT_TRUE(parse_hf_config(j, nullptr, "m").ok()) << cls;
  }
}

TEST(HfConfig, RejectsBadConfigs) {
  const char* bad[] = {
      R"([])",
      R"({"hidden_size": 8})",
      R"({"architectures": ["BertModel"], "hidden_size": 8})",
      R"({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2})",
      R"({"architectures": ["LlamaForCausalLM"], "hidden_size": "8", "num_hidden_layers": 2,
          "intermediate_size": 8, "num_attention_heads": 2, "vocab_size": 10})",
      R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 8, "num_hidden_layers": 2,
          "intermediate_size": 8, "num_attention_heads": 0, "vocab_size": 10})",
      R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 8, "num_hidden_layers": 2,
          "intermediate_size": 8, "num_attention_heads": 2, "num_key_value_heads": 3, "vocab_size": 10})",
      R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 8, "num_hidden_layers": 2,
          "intermediate_size": 8, "num_attention_heads": 2, "vocab_size": -1})",
  };
  for (const char* text : bad)
    EXPECT_FALSE(parse_hf_config(json::parse(text), nullptr, "m").ok()) << text;
}

TEST(HfTensorNames, MapsBothWaysPerFamily) {
  const ArchSpec& llama = *find_arch("llama");
  const ArchSpec& gemma = *find_arch("gemma2");
  const ArchSpec& phi3 = *find_arch("phi3");
  EXPECT_EQ(hf_to_internal_name(llama, "model.layers.12.self_attn.q_proj.weight"),
            "blk.12.attn_q.weight");
  EXPECT_EQ(hf_to_internal_name(llama, "model.layers.0.post_attention_layernorm.weight"),
            "blk.0.ffn_norm.weight");
  EXPECT_EQ(hf_to_internal_name(gemma, "model.layers.0.post_attention_layernorm.weight"),
            "blk.0.post_attention_norm.weight");
  EXPECT_EQ(hf_to_internal_name(gemma, "model.layers.0.pre_feedforward_layernorm.weight"),
            "blk.0.ffn_norm.weight");
  EXPECT_EQ(hf_to_internal_name(phi3, "model.layers.1.mlp.gate_up_proj.weight"),
            "blk.1.ffn_up.weight");
  EXPECT_EQ(hf_to_internal_name(llama, "model.layers.1.mlp.gate_up_proj.weight"), std::nullopt);
  EXPECT_EQ(hf_to_internal_name(llama, "lm_head.weight"), "output.weight");
  EXPECT_EQ(hf_to_internal_name(llama, "language_model.model.norm.weight"), "output_norm.weight");
  EXPECT_EQ(hf_to_internal_name(llama, "model.language_model.layers.2.mlp.up_proj.weight"),
            "blk.2.ffn_up.weight");
  EXPECT_EQ(hf_to_internal_name(llama, "model.layers.x.mlp.up_proj.weight"), std::nullopt);
  EXPECT_EQ(hf_to_internal_name(llama, "model.layers.0.self_attn.rotary_emb.inv_freq"),
            std::nullopt);
  for (const char* name :
       {"token_embd.weight", "output.weight", "output_norm.weight", "blk.3.attn_k.bias",
        "blk.3.ffn_down.weight", "blk.0.attn_q_norm.weight"}) {
    const auto hf = internal_to_hf_name(llama, name);
    ASSERT_TRUE(hf.has_value()) << name;
    EXPECT_EQ(hf_to_internal_name(llama, *hf), name);
  }
  EXPECT_EQ(internal_to_hf_name(gemma, "blk.1.post_ffw_norm.weight"),
            "model.layers.1.post_feedforward_layernorm.weight");
}

// LongRoPE needs both factor lists, each with one positive value per rotated pair.
TEST(HfConfig, RejectsMalformedLongRope) {
  json j = llama_config();  // head size 32: 16 factors per list
  const std::vector<double> good(16, 1.5);
  struct Case {
    const char* what;
    json rope_scaling;
  };
  const Case cases[] = {
      {"short list",
       {{"type", "longrope"},
        {"short_factor", std::vector<double>(15, 1.0)},
        {"long_factor", good}}},
      {"long list missing", {{"type", "longrope"}, {"short_factor", good}}},
      {"not a list", {{"type", "longrope"}, {"short_factor", good}, {"long_factor", 2.0}}},
      {"zero factor",
       {{"type", "longrope"},
        {"short_factor", good},
        {"long_factor", std::vector<double>(16, 0.0)}}},
      {"text factor",
       {{"type", "su"}, {"short_factor", good}, {"long_factor", std::vector<json>(16, "x")}}},
  };
  for (const Case& c : cases) {
    j["rope_scaling"] = c.rope_scaling;
    auto r = parse_hf_config(j, nullptr, "m");
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(r.status().message().find("config.json"), std::string::npos) << c.what;
  }
  j["rope_scaling"] = {{"type", "longrope"}, {"short_factor", good}, {"long_factor", good}};
  j["original_max_position_embeddings"] = 0;
  EXPECT_EQ(parse_hf_config(j, nullptr, "m").status().code(), StatusCode::kInvalidArgument);
  j.erase("original_max_position_embeddings");
  EXPECT_TRUE(parse_hf_config(j, nullptr, "m").ok());
}

json qwen3_moe_config() {
  return json::parse(R"({
    "architectures": ["Qwen3MoeForCausalLM"], "hidden_size": 64, "num_hidden_layers": 4,
    "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 16, "vocab_size": 100, "num_experts": 8, "num_experts_per_tok": 2,
    "moe_intermediate_size": 32, "norm_topk_prob": true, "decoder_sparse_step": 1,
    "mlp_only_layers": [2]})");
}

TEST(HfConfig, ReadsQwen3Moe) {
  auto c = parse_hf_config(qwen3_moe_config(), nullptr, "m");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  const HParams& hp = c->hp;
  EXPECT_EQ(hp.arch->gguf_name, "qwen3moe");
  EXPECT_EQ(hp.n_expert, 8);
  EXPECT_EQ(hp.n_expert_used, 2);
  EXPECT_EQ(hp.n_ff_expert, 32);
  EXPECT_TRUE(hp.expert_weights_norm);
  EXPECT_EQ(hp.moe_layers, (std::vector<uint8_t>{1, 1, 0, 1}));

  json j = qwen3_moe_config();
  j["decoder_sparse_step"] = 2;  // layers 1 and 3 are sparse: (layer + 1) % 2 == 0
  j.erase("mlp_only_layers");
  j.erase("norm_topk_prob");  // the published default is false
  c = parse_hf_config(j, nullptr, "m");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->hp.moe_layers, (std::vector<uint8_t>{0, 1, 0, 1}));
  EXPECT_FALSE(c->hp.expert_weights_norm);
}

TEST(HfConfig, RejectsBadQwen3MoeConfigs) {
  struct Case {
    const char* what;
    const char* key;
    json value;
  };
  const Case cases[] = {
      {"top-k above the expert count", "num_experts_per_tok", 9},
      {"zero top-k", "num_experts_per_tok", 0},
      {"missing expert size", "moe_intermediate_size", nullptr},
      {"missing expert count", "num_experts", nullptr},
      {"zero sparse step", "decoder_sparse_step", 0},
      {"dense layer out of range", "mlp_only_layers", json::array({4})},
      {"dense layers not a list", "mlp_only_layers", 1},
      {"norm flag not a boolean", "norm_topk_prob", "yes"},
  };
  for (const Case& c : cases) {
    json j = qwen3_moe_config();
    if (c.value.is_null())
      j.erase(c.key);
    else
      j[c.key] = c.value;
    auto r = parse_hf_config(j, nullptr, "m");
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_FALSE(r.status().message().empty()) << c.what;
  }
  json j = qwen3_moe_config();
  j["num_experts_per_tok"] = 9;
  EXPECT_NE(parse_hf_config(j, nullptr, "m").status().message().find("expert count 8"),
            std::string::npos);
}

TEST(HfTensorNames, MapsExperts) {
  const ArchSpec& moe = *find_arch("qwen3moe");
  EXPECT_EQ(hf_to_internal_name(moe, "model.layers.3.mlp.gate.weight"),
            "blk.3.ffn_gate_inp.weight");
  EXPECT_EQ(hf_to_internal_name(moe, "model.layers.3.mlp.experts.17.down_proj.weight"),
            "blk.3.ffn_down.17.weight");
  EXPECT_EQ(hf_to_internal_name(moe, "model.layers.0.mlp.switch_mlp.up_proj.weight"),
            "blk.0.ffn_up_exps.weight");
  EXPECT_EQ(hf_to_internal_name(moe, "model.layers.0.mlp.experts.x.up_proj.weight"), std::nullopt);
  EXPECT_EQ(internal_to_hf_name(moe, "blk.3.ffn_gate.17.weight"),
            "model.layers.3.mlp.experts.17.gate_proj.weight");
  EXPECT_EQ(internal_to_hf_name(moe, "blk.2.ffn_down_exps.weight"),
            "model.layers.2.mlp.switch_mlp.down_proj.weight");
  EXPECT_EQ(internal_to_hf_name(moe, "blk.2.ffn_gate.weight"),
            "model.layers.2.mlp.gate_proj.weight");
  EXPECT_EQ(hf_to_internal_name(*find_arch("qwen3"), "model.layers.3.mlp.experts.1.up_proj.weight"),
            std::nullopt);
}

}  // namespace
}  // namespace inferd::model

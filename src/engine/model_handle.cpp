#include <algorithm>
#include <map>

#include "inferd/engine.h"
#include "model/hf_model_dir.h"
#include "model/model.h"
#include "tokenizer/hf_tokenizer_config.h"
#include "tokenizer/tokenizer.h"

namespace inferd {

struct Model::Impl {
  std::unique_ptr<model::Model> core;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  ModelInfo info;
  std::string chat_template;           // "" when the model's files have none
  std::vector<TokenId> extra_eog;      // end ids the model's files name beyond the tokenizer's
};

namespace {

ModelInfo describe(const model::Model& m) {
  const model::HParams& hp = m.hparams();
  ModelInfo info;
  info.path = m.path();
  info.name = hp.name;
  info.architecture = std::string(hp.arch->gguf_name);
  info.n_vocab = hp.n_vocab;
  info.n_ctx_train = hp.n_ctx_train;
  info.n_embd = hp.n_embd;
  info.n_layer = hp.n_layer;
  info.n_head = hp.n_head;
  info.n_head_kv = hp.n_head_kv;
  info.n_ff = hp.n_ff;
  info.file_bytes = m.file_size_bytes();
  info.weight_bytes = m.weights().total_bytes;
  info.resident_weight_bytes = m.resident_weight_bytes();
  info.weight_bytes_per_token = m.weights().bytes_per_token;
  std::map<backend::DType, uint64_t> bytes_by_type;
  for (const auto& t : m.tensors().tensors()) {
    bytes_by_type[t.type] += t.size_bytes;
    info.n_params += t.num_elements();
  }
  uint64_t best = 0;
  for (const auto& [type, bytes] : bytes_by_type)
    if (bytes > best) {
      best = bytes;
      info.weight_type = backend::dtype_name(type);
    }
  return info;
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

Result<std::shared_ptr<const Model>> Model::load(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  INFERD_ASSIGN_OR_RETURN(impl->core, model::Model::load(path));
  if (const format::GgufFile* gguf = impl->core->gguf()) {
    auto tok = tokenizer::Tokenizer::from_gguf(*gguf);
    if (!tok.ok()) return tok.status().with_context(path);
    impl->tokenizer = std::move(tok).value();
    if (auto t = gguf->get_string("tokenizer.chat_template"); t.ok()) impl->chat_template = std::string(*t);
  } else {
    const std::string& dir = impl->core->hf_dir()->dir();
    auto tok = tokenizer::Tokenizer::from_hf_dir(dir);
    if (!tok.ok()) return tok.status().with_context(path);
    impl->tokenizer = std::move(tok).value();
    INFERD_ASSIGN_OR_RETURN(const tokenizer::HfTokenizerConfig config, tokenizer::HfTokenizerConfig::read(dir));
    impl->chat_template = config.chat_template;
  }
  for (int32_t id : impl->core->eos_token_ids())
    if (impl->tokenizer->contains(id) && !impl->tokenizer->is_eog(id)) impl->extra_eog.push_back(id);
  impl->info = describe(*impl->core);
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelInfo& Model::info() const { return impl_->info; }
int64_t Model::vocab_size() const { return impl_->info.n_vocab; }
const model::Model& Model::core() const { return *impl_->core; }
const tokenizer::Tokenizer& Model::tokenizer() const { return *impl_->tokenizer; }

std::vector<TokenId> Model::tokenize(std::string_view text, bool add_special, bool parse_special) const {
  return impl_->tokenizer->encode(text, add_special, parse_special);
}

std::string Model::token_to_piece(TokenId id, bool render_special) const {
  return impl_->tokenizer->token_to_piece(id, render_special);
}

std::string Model::detokenize(std::span<const TokenId> tokens, bool skip_special) const {
  return impl_->tokenizer->decode(tokens, skip_special);
}

bool Model::is_end_of_generation(TokenId id) const {
  return impl_->tokenizer->is_eog(id) ||
         std::find(impl_->extra_eog.begin(), impl_->extra_eog.end(), id) != impl_->extra_eog.end();
}

const std::string& Model::chat_template() const { return impl_->chat_template; }

namespace {
std::optional<TokenId> token_or_none(TokenId id) {
  return id == tokenizer::kNoToken ? std::nullopt : std::optional<TokenId>(id);
}
}  // namespace

std::optional<TokenId> Model::bos() const { return token_or_none(impl_->tokenizer->bos()); }
std::optional<TokenId> Model::eos() const { return token_or_none(impl_->tokenizer->eos()); }
bool Model::adds_bos() const { return impl_->tokenizer->flags().add_bos; }

}  // namespace inferd

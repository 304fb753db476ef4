#include "tokenizer/hf_tokenizer_builder.h"

#include <fmt/format.h>

#include "tokenizer/end_of_generation.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/hf_pipeline.h"
#include "tokenizer/special_token_matcher.h"
#include "tokenizer/vocab.h"

namespace inferd::tokenizer {
namespace {

// Ids above this are rejected: a vocabulary that large is a malformed file, not a model.
constexpr int64_t kMaxTokenId = int64_t{1} << 24;

struct AddedToken {
  TokenId id;
  std::string content;
  bool special;
  bool lstrip;
  bool rstrip;
};

Result<std::vector<AddedToken>> read_added_tokens(const Json& root) {
  std::vector<AddedToken> out;
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return out;
  if (!it->is_array()) return invalid_argument("added_tokens must be an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& t = (*it)[i];
    const std::string path = json_path("added_tokens", i);
    if (!t.is_object()) return invalid_argument("{} must be an object", path);
    INFERD_ASSIGN_OR_RETURN(int64_t id, json_int_or(t, "id", path, -1));
    if (id < 0 || id >= kMaxTokenId)
      return invalid_argument("{} must be an id in [0, {})", json_path(path, "id"), kMaxTokenId);
    AddedToken a{static_cast<TokenId>(id), {}, false, false, false};
    INFERD_ASSIGN_OR_RETURN(a.content, json_string(t, "content", path));
    if (a.content.empty()) return invalid_argument("{} is empty", json_path(path, "content"));
    INFERD_ASSIGN_OR_RETURN(a.special, json_bool_or(t, "special", path, false));
    INFERD_ASSIGN_OR_RETURN(a.lstrip, json_bool_or(t, "lstrip", path, false));
    INFERD_ASSIGN_OR_RETURN(a.rstrip, json_bool_or(t, "rstrip", path, false));
    INFERD_ASSIGN_OR_RETURN(bool single_word, json_bool_or(t, "single_word", path, false));
    if (single_word)
      return unsupported("{}: single_word added tokens are not supported",
                         json_path(path, "single_word"));
    out.push_back(std::move(a));
  }
  return out;
}

// Token texts by id: the model's vocabulary, then the added tokens (which may extend it).
Result<std::vector<std::string>> read_texts(const Json& model,
                                            const std::vector<AddedToken>& added) {
  const auto it = model.find("vocab");
  if (it == model.end() || !it->is_object())
    return invalid_argument("model.vocab must be an object of token -> id");
  int64_t max_id = -1;
  for (const auto& [text, id] : it->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxTokenId)
      return invalid_argument("model.vocab[\"{}\"] must be an id in [0, {})", text, kMaxTokenId);
    max_id = std::max(max_id, id.get<int64_t>());
  }
  for (const AddedToken& a : added) max_id = std::max<int64_t>(max_id, a.id);
  std::vector<std::string> texts(static_cast<size_t>(max_id + 1));
  for (const auto& [text, id] : it->items()) {
    std::string& slot = texts[static_cast<size_t>(id.get<int64_t>())];
    if (!slot.empty())
      return invalid_argument("model.vocab: tokens \"{}\" and \"{}\" share id {}", slot, text,
                              id.get<int64_t>());
    slot = text;
  }
  for (const AddedToken& a : added) {
    std::string& slot = texts[static_cast<size_t>(a.id)];
    if (!slot.empty() && slot != a.content)
      return invalid_argument("added token \"{}\" has id {}, which model.vocab gives to \"{}\"",
                              a.content, a.id, slot);
    slot = a.content;
  }
  return texts;
}

// Tokens the post-processor puts before and after the text.
struct Template {
  std::vector<TokenId> prefix;
  std::vector<TokenId> suffix;
};

Status read_template_processing(const Json& spec, std::string_view path, const Vocab& vocab,
                                Template& out) {
  INFERD_ASSIGN_OR_RETURN(const Json* single, json_array(spec, "single", path));
  const std::string single_path = json_path(path, "single");
  const auto specials = spec.find("special_tokens");
  bool seen_sequence = false;
  for (size_t i = 0; i < single->size(); ++i) {
    const Json& piece = (*single)[i];
    const std::string piece_path = json_path(single_path, i);
    if (piece.is_object() && piece.contains("Sequence")) {
      if (seen_sequence)
        return invalid_argument("{}: the template names the sequence twice", piece_path);
      seen_sequence = true;
      continue;
    }
    if (!piece.is_object() || !piece.contains("SpecialToken"))
      return invalid_argument("{} must be {{\"SpecialToken\": ...}} or {{\"Sequence\": ...}}",
                              piece_path);
    INFERD_ASSIGN_OR_RETURN(std::string name, json_string(piece["SpecialToken"], "id",
                                                          json_path(piece_path, "SpecialToken")));
    std::vector<TokenId>& side = seen_sequence ? out.suffix : out.prefix;
    // The token's ids come from special_tokens; a name absent there is looked up as a text.
    if (specials != spec.end() && specials->is_object() && specials->contains(name)) {
      const std::string sp = json_path(json_path(path, "special_tokens"), name);
      INFERD_ASSIGN_OR_RETURN(const Json* ids, json_array((*specials)[name], "ids", sp));
      for (const Json& id : *ids) {
        if (!id.is_number_integer() || !vocab.contains(static_cast<TokenId>(id.get<int64_t>())))
          return invalid_argument("{}.ids holds {}, which is not a token id", sp, id.dump());
        side.push_back(static_cast<TokenId>(id.get<int64_t>()));
      }
    } else {
      const TokenId id = vocab.find(name);
      if (id == kNoToken)
        return invalid_argument("{}: special token \"{}\" is not in the vocabulary", piece_path,
                                name);
      side.push_back(id);
    }
  }
  if (!seen_sequence) return invalid_argument("{} never names the sequence", single_path);
  return Status();
}

Status read_post_processor(const Json& spec, std::string_view path, const Vocab& vocab,
                           Template& out) {
  if (spec.is_null()) return Status();
  INFERD_ASSIGN_OR_RETURN(std::string type, json_type(spec, path));
  if (type == "TemplateProcessing") return read_template_processing(spec, path, vocab, out);
  if (type == "ByteLevel") return Status();  // offsets only: the ids are unchanged
  if (type == "Sequence") {
    INFERD_ASSIGN_OR_RETURN(const Json* items, json_array(spec, "processors", path));
    for (size_t i = 0; i < items->size(); ++i)
      INFERD_RETURN_IF_ERROR(read_post_processor(
          (*items)[i], json_path(json_path(path, "processors"), i), vocab, out));
    return Status();
  }
  return unsupported("{}.type \"{}\" is not a supported post-processor", path, type);
}

// The id of special token `text` named by configuration field `field`; kNoToken when empty.
Result<TokenId> special_id(const Vocab& vocab, const std::string& text, std::string_view field) {
  if (text.empty()) return kNoToken;
  const TokenId id = vocab.find(text);
  if (id == kNoToken) return invalid_argument("{} \"{}\" is not in the vocabulary", field, text);
  return id;
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> HfTokenizerBuilder::build(std::string_view tokenizer_json,
                                                             const HfTokenizerConfig& config) {
  const Json root = Json::parse(tokenizer_json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return invalid_argument("tokenizer.json is not valid JSON");
  if (!root.is_object()) return invalid_argument("tokenizer.json must hold a JSON object");
  const auto model_it = root.find("model");
  if (model_it == root.end() || !model_it->is_object())
    return invalid_argument("model must be an object");
  const Json& model = *model_it;
  // Files written before "type" was stored are BPE when they have merges.
  INFERD_ASSIGN_OR_RETURN(
      std::string model_type,
      json_string_or(model, "type", "model", model.contains("merges") ? "BPE" : ""));
  if (model_type != "BPE")
    return unsupported("model.type \"{}\" is not a supported tokenizer model (BPE)", model_type);

  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  tok->model_ = TokenizerModel::kHfBpe;
  tok->pre_name_ = "tokenizer.json";

  INFERD_ASSIGN_OR_RETURN(std::vector<AddedToken> added, read_added_tokens(root));
  INFERD_ASSIGN_OR_RETURN(std::vector<std::string> texts, read_texts(model, added));
  const size_t n = texts.size();
  INFERD_ASSIGN_OR_RETURN(bool byte_fallback, json_bool_or(model, "byte_fallback", "model", false));
  std::vector<TokenType> types(n, TokenType::kNormal);
  for (size_t id = 0; id < n; ++id) {
    if (texts[id].empty()) {
      types[id] = TokenType::kUnused;
    } else if (byte_fallback && texts[id].size() == 6 && texts[id].rfind("<0x", 0) == 0) {
      types[id] = TokenType::kByte;
    }
  }
  std::vector<uint8_t> lstrip(n, 0);
  std::vector<uint8_t> rstrip(n, 0);
  for (const AddedToken& a : added) {
    types[a.id] = a.special ? TokenType::kControl : TokenType::kUserDefined;
    lstrip[a.id] = a.lstrip;
    rstrip[a.id] = a.rstrip;
  }
  {
    auto vocab = Vocab::build(texts, {}, std::move(types));
    if (!vocab.ok()) return vocab.status().with_context("model.vocab");
    tok->vocab_ = std::make_unique<Vocab>(std::move(vocab).value());
  }
  Vocab& vocab = *tok->vocab_;

  INFERD_ASSIGN_OR_RETURN(HfNormalizer normalizer,
                          HfNormalizer::build(root.value("normalizer", Json()), "normalizer"));
  INFERD_ASSIGN_OR_RETURN(
      HfPreTokenizer pre,
      HfPreTokenizer::build(root.value("pre_tokenizer", Json()), "pre_tokenizer"));
  INFERD_ASSIGN_OR_RETURN(HfBpeModel bpe, HfBpeModel::build(model, vocab, "model"));
  INFERD_ASSIGN_OR_RETURN(HfDecoder decoder,
                          HfDecoder::build(root.value("decoder", Json()), "decoder"));
  Template tmpl;
  INFERD_RETURN_IF_ERROR(
      read_post_processor(root.value("post_processor", Json()), "post_processor", vocab, tmpl));

  // Special tokens: the configuration's texts; the model's unknown token.
  SpecialTokens special;
  INFERD_ASSIGN_OR_RETURN(special.bos, special_id(vocab, config.bos_token, "bos_token"));
  INFERD_ASSIGN_OR_RETURN(special.eos, special_id(vocab, config.eos_token, "eos_token"));
  INFERD_ASSIGN_OR_RETURN(special.pad, special_id(vocab, config.pad_token, "pad_token"));
  INFERD_ASSIGN_OR_RETURN(special.unk, special_id(vocab, config.unk_token, "unk_token"));
  if (special.unk == kNoToken) special.unk = bpe.unk();
  if (special.unk != kNoToken && !is_partition_type(vocab.type(special.unk)))
    vocab.set_type(special.unk, TokenType::kUnknown);

  // The post-processor's tokens become add_bos / add_eos.
  TokenizerFlags flags;
  if (tmpl.prefix.size() > 1 || tmpl.suffix.size() > 1)
    return unsupported(
        "post_processor adds {} tokens before and {} after the text; at most one "
        "each is supported",
        tmpl.prefix.size(), tmpl.suffix.size());
  if (!tmpl.prefix.empty()) {
    flags.add_bos = true;
    special.bos = tmpl.prefix[0];
  }
  if (!tmpl.suffix.empty()) {
    if (special.eos != kNoToken && special.eos != tmpl.suffix[0])
      return unsupported("post_processor ends the text with token {} but eos_token is {}",
                         tmpl.suffix[0], special.eos);
    flags.add_eos = true;
    special.eos = tmpl.suffix[0];
  }
  flags.decode_strips_leading_space = decoder.strips_leading_space();

  mark_end_of_generation(vocab, special, tok->eog_, tok->is_eog_);
  tok->hf_ = std::make_unique<HfPipeline>(std::move(normalizer), std::move(pre), std::move(bpe),
                                          std::move(decoder));
  tok->matcher_ =
      std::make_unique<SpecialTokenMatcher>(vocab, std::move(lstrip), std::move(rstrip));
  tok->special_ = special;
  tok->flags_ = flags;
  tok->build_pieces();
  return tok;
}

}  // namespace inferd::tokenizer

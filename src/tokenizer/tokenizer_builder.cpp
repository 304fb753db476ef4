#include "tokenizer/tokenizer_builder.h"

#include <optional>
#include <string>

#include "tokenizer/bpe_encoder.h"
#include "tokenizer/end_of_generation.h"
#include "tokenizer/pre_tokenizer_table.h"
#include "tokenizer/special_token_matcher.h"
#include "tokenizer/spm_encoder.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece_encoder.h"

namespace inferd::tokenizer {
namespace {

using format::GgufArray;
using format::GgufFile;

constexpr std::string_view kPrefix = "tokenizer.ggml.";

std::string key(std::string_view name) {
  return std::string(kPrefix) + std::string(name);
}

// Model families: tokenizer.ggml.model -> algorithm, default special ids and flags.
struct ModelFamily {
  std::string_view name;
  TokenizerModel model;
  SpecialTokens defaults;
  TokenizerFlags flags;
};

const ModelFamily* find_family(std::string_view name) {
  static const ModelFamily kFamilies[] = {
      {"llama",
       TokenizerModel::kSpm,
       {.bos = 1, .eos = 2, .unk = 0},
       {.add_bos = true, .add_space_prefix = true}},
      {"gpt2", TokenizerModel::kBpe, {}, {}},
      {"bert",
       TokenizerModel::kWordPiece,
       {.bos = 101, .unk = 100, .sep = 102, .pad = 0, .cls = 101, .mask = 103},
       {.add_bos = true, .add_sep = true}},
  };
  for (const ModelFamily& f : kFamilies)
    if (f.name == name) return &f;
  return nullptr;
}

// Special-id metadata keys and the field each sets.
struct SpecialKey {
  std::string_view name;
  TokenId SpecialTokens::*field;
};
constexpr SpecialKey kSpecialKeys[] = {
    {"bos_token_id", &SpecialTokens::bos},       {"eos_token_id", &SpecialTokens::eos},
    {"eot_token_id", &SpecialTokens::eot},       {"eom_token_id", &SpecialTokens::eom},
    {"unknown_token_id", &SpecialTokens::unk},   {"seperator_token_id", &SpecialTokens::sep},
    {"separator_token_id", &SpecialTokens::sep}, {"padding_token_id", &SpecialTokens::pad},
    {"cls_token_id", &SpecialTokens::cls},       {"mask_token_id", &SpecialTokens::mask},
};

// Vocabularies whose added tokens swallow the whitespace after them, keyed by a substring of
// general.name (lowercased); the listed texts are exempt.
struct StripRule {
  std::string_view name_part;
  std::vector<std::string_view> rstrip_exempt;
  std::vector<std::string_view> rstrip_extra;  // non-special tokens that rstrip too
};
const std::vector<StripRule>& strip_rules() {
  static const std::vector<StripRule> rules = {
      {"phi-3", {"<unk>", "<s>", "<|endoftext|>"}, {"</s>"}},
      {"phi3", {"<unk>", "<s>", "<|endoftext|>"}, {"</s>"}},
  };
  return rules;
}

Result<std::vector<std::string>> read_strings(const GgufFile& f, std::string_view name,
                                              bool required) {
  const std::string k = key(name);
  if (f.find(k) == nullptr) {
    if (required) return not_found("tokenizer metadata {} is missing", k);
    return std::vector<std::string>{};
  }
  INFERD_ASSIGN_OR_RETURN(const GgufArray* arr, f.get_array(k));
  const auto* strings = arr->get<std::string>();
  if (strings == nullptr)
    return invalid_argument("{} must be an array of strings, not of {}", k,
                            format::gguf_type_name(arr->elem_type));
  return *strings;
}

Result<std::vector<float>> read_scores(const GgufFile& f) {
  const std::string k = key("scores");
  if (f.find(k) == nullptr) return std::vector<float>{};
  INFERD_ASSIGN_OR_RETURN(const GgufArray* arr, f.get_array(k));
  if (const auto* v = arr->get<float>()) return *v;
  if (const auto* v = arr->get<double>()) return std::vector<float>(v->begin(), v->end());
  return invalid_argument("{} must be an array of floats, not of {}", k,
                          format::gguf_type_name(arr->elem_type));
}

Result<std::vector<TokenType>> read_types(const GgufFile& f) {
  const std::string k = key("token_type");
  if (f.find(k) == nullptr) return std::vector<TokenType>{};
  INFERD_ASSIGN_OR_RETURN(const GgufArray* arr, f.get_array(k));
  std::vector<TokenType> types;
  types.reserve(arr->size());
  Status bad;
  auto convert = [&](const auto& values) {
    for (size_t i = 0; i < values.size(); ++i) {
      const auto v = static_cast<int64_t>(values[i]);
      if (v < 0 || v >= kNumTokenTypes) {
        bad = invalid_argument("{}[{}] = {} is not a token type (0..{})", k, i, v,
                               kNumTokenTypes - 1);
        return;
      }
      types.push_back(static_cast<TokenType>(v));
    }
  };
  if (const auto* v = arr->get<int32_t>())
    convert(*v);
  else if (const auto* v = arr->get<uint32_t>())
    convert(*v);
  else if (const auto* v = arr->get<int8_t>())
    convert(*v);
  else if (const auto* v = arr->get<uint8_t>())
    convert(*v);
  else if (const auto* v = arr->get<int16_t>())
    convert(*v);
  else if (const auto* v = arr->get<uint16_t>())
    convert(*v);
  else if (const auto* v = arr->get<int64_t>())
    convert(*v);
  else
    return invalid_argument("{} must be an array of integers, not of {}", k,
                            format::gguf_type_name(arr->elem_type));
  if (!bad.ok()) return bad;
  return types;
}

Result<std::optional<bool>> read_flag(const GgufFile& f, std::string_view name) {
  const std::string k = key(name);
  if (f.find(k) == nullptr) return std::optional<bool>{};
  INFERD_ASSIGN_OR_RETURN(bool v, f.get_bool(k));
  return std::optional<bool>(v);
}

std::string lowercase_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> TokenizerBuilder::build(const GgufFile& file) {
  std::unique_ptr<Tokenizer> tok(new Tokenizer());

  INFERD_ASSIGN_OR_RETURN(std::string model_name, file.get_string(key("model")));
  const ModelFamily* family = find_family(model_name);
  if (family == nullptr)
    return unsupported("{} \"{}\" is not a supported tokenizer (llama, gpt2, bert)", key("model"),
                       model_name);
  tok->model_ = family->model;
  INFERD_ASSIGN_OR_RETURN(tok->pre_name_, file.get_string_or(key("pre"), ""));

  // Token table.
  INFERD_ASSIGN_OR_RETURN(std::vector<std::string> texts, read_strings(file, "tokens", true));
  INFERD_ASSIGN_OR_RETURN(std::vector<float> scores, read_scores(file));
  INFERD_ASSIGN_OR_RETURN(std::vector<TokenType> types, read_types(file));
  if (!scores.empty() && scores.size() != texts.size())
    return invalid_argument("{} has {} entries but {} has {}", key("scores"), scores.size(),
                            key("tokens"), texts.size());
  if (!types.empty() && types.size() != texts.size())
    return invalid_argument("{} has {} entries but {} has {}", key("token_type"), types.size(),
                            key("tokens"), texts.size());
  {
    auto vocab = Vocab::build(texts, std::move(scores), std::move(types));
    if (!vocab.ok()) return vocab.status().with_context(key("tokens"));
    tok->vocab_ = std::make_unique<Vocab>(std::move(vocab).value());
  }
  Vocab& vocab = *tok->vocab_;
  const int64_t n = vocab.size();

  // Special ids: family defaults that exist in this vocabulary, then explicit metadata.
  SpecialTokens special;
  for (const SpecialKey& sk : kSpecialKeys) {
    const TokenId def = family->defaults.*(sk.field);
    if (def >= 0 && def < n) special.*(sk.field) = def;
  }
  for (const SpecialKey& sk : kSpecialKeys) {
    const std::string k = key(sk.name);
    if (file.find(k) == nullptr) continue;
    INFERD_ASSIGN_OR_RETURN(int64_t id, file.get_int(k));
    if (id < 0 || id >= n)
      return out_of_range("{} = {} is outside the vocabulary (size {})", k, id, n);
    special.*(sk.field) = static_cast<TokenId>(id);
  }
  if (family->model == TokenizerModel::kWordPiece && special.cls != kNoToken)
    special.bos = special.cls;

  // Flags: family defaults, then the pre-tokenizer's, then explicit metadata.
  TokenizerFlags flags = family->flags;
  const PreTokenizerSpec* pre_spec = nullptr;
  if (family->model == TokenizerModel::kBpe) {
    pre_spec = find_pre_tokenizer(tok->pre_name_);
    if (pre_spec == nullptr)
      return unsupported("{} \"{}\" is not a known pre-tokenizer", key("pre"), tok->pre_name_);
    flags.add_bos = pre_spec->add_bos;
    flags.add_sep = pre_spec->add_sep;
  }
  struct FlagKey {
    std::string_view name;
    bool TokenizerFlags::*field;
  };
  static constexpr FlagKey kFlagKeys[] = {
      {"add_bos_token", &TokenizerFlags::add_bos},
      {"add_eos_token", &TokenizerFlags::add_eos},
      {"add_sep_token", &TokenizerFlags::add_sep},
      {"add_space_prefix", &TokenizerFlags::add_space_prefix},
      {"remove_extra_whitespaces", &TokenizerFlags::remove_extra_whitespaces},
  };
  for (const FlagKey& fk : kFlagKeys) {
    INFERD_ASSIGN_OR_RETURN(std::optional<bool> v, read_flag(file, fk.name));
    if (v.has_value()) flags.*(fk.field) = *v;
  }
  if (family->model != TokenizerModel::kSpm) {
    flags.add_space_prefix = false;  // only SentencePiece vocabularies mark word starts this way
    flags.remove_extra_whitespaces = false;
  }
  if (flags.add_bos && special.bos == kNoToken)
    return invalid_argument("{} asks for a BOS token but the vocabulary has none",
                            key("add_bos_token"));
  if (flags.add_eos && special.eos == kNoToken)
    return invalid_argument("{} asks for an EOS token but the vocabulary has none",
                            key("add_eos_token"));
  if (flags.add_sep && special.sep == kNoToken)
    return invalid_argument("{} asks for a SEP token but the vocabulary has none",
                            key("add_sep_token"));

  // End-of-turn / end-of-generation tokens found by text; they are control tokens.
  mark_end_of_generation(vocab, special, tok->eog_, tok->is_eog_);

  // Segmentation.
  switch (family->model) {
    case TokenizerModel::kSpm: tok->spm_ = std::make_unique<SpmEncoder>(vocab, special.unk); break;
    case TokenizerModel::kBpe: {
      INFERD_ASSIGN_OR_RETURN(std::vector<std::string> merges, read_strings(file, "merges", true));
      auto bpe = BpeEncoder::build(vocab, merges, *pre_spec, special.unk);
      if (!bpe.ok()) return bpe.status().with_context(key("merges"));
      tok->bpe_ = std::make_unique<BpeEncoder>(std::move(bpe).value());
      break;
    }
    case TokenizerModel::kWordPiece:
      tok->wordpiece_ = std::make_unique<WordPieceEncoder>(vocab, special.unk);
      break;
    case TokenizerModel::kHfBpe:  // a tokenizer.json model, never a GGUF family
      return internal_error("{} \"{}\" maps to a tokenizer.json model", key("model"), model_name);
  }

  // Added-token whitespace rules.
  std::vector<uint8_t> rstrip;
  INFERD_ASSIGN_OR_RETURN(std::string general_name, file.get_string_or("general.name", ""));
  general_name = lowercase_ascii(general_name);
  for (const StripRule& rule : strip_rules()) {
    if (general_name.find(rule.name_part) == std::string::npos) continue;
    rstrip.assign(static_cast<size_t>(n), 0);
    for (TokenId id = 0; id < n; ++id)
      if (is_partition_type(vocab.type(id))) rstrip[id] = 1;
    for (std::string_view text : rule.rstrip_extra)
      if (TokenId id = vocab.find(text); id != kNoToken) rstrip[id] = 1;
    for (std::string_view text : rule.rstrip_exempt)
      if (TokenId id = vocab.find(text); id != kNoToken) rstrip[id] = 0;
    break;
  }
  tok->matcher_ =
      std::make_unique<SpecialTokenMatcher>(vocab, std::vector<uint8_t>{}, std::move(rstrip));
  tok->special_ = special;
  tok->flags_ = flags;
  tok->build_pieces();
  return tok;
}

}  // namespace inferd::tokenizer

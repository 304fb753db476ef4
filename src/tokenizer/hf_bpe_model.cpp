#include "tokenizer/hf_bpe_model.h"

#include <fmt/format.h>

#include "tokenizer/utf8.h"

namespace inferd::tokenizer {
namespace {

// A token the model may produce from text: special (control) tokens come only from the added
// tokens matched before the model runs.
bool is_model_token(const Vocab& vocab, TokenId id) {
  return id != kNoToken && vocab.type(id) != TokenType::kControl;
}

}  // namespace

Result<HfBpeModel> HfBpeModel::build(const Json& model, const Vocab& vocab, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(const Json* merges, json_array(model, "merges", path));
  HfBpeModel bpe(merges->size());
  bpe.vocab_ = &vocab;
  INFERD_ASSIGN_OR_RETURN(bpe.byte_fallback_, json_bool_or(model, "byte_fallback", path, false));
  INFERD_ASSIGN_OR_RETURN(bpe.fuse_unk_, json_bool_or(model, "fuse_unk", path, false));
  INFERD_ASSIGN_OR_RETURN(bpe.ignore_merges_, json_bool_or(model, "ignore_merges", path, false));
  for (std::string_view key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    INFERD_ASSIGN_OR_RETURN(std::string v, json_string_or(model, key, path, ""));
    if (!v.empty()) return unsupported("{} \"{}\" is not supported", json_path(path, key), v);
  }
  if (const auto it = model.find("dropout"); it != model.end() && !it->is_null()) {
    if (!it->is_number() || it->get<double>() != 0.0)
      return unsupported("{}: BPE dropout is not supported", json_path(path, "dropout"));
  }
  INFERD_ASSIGN_OR_RETURN(std::string unk_text, json_string_or(model, "unk_token", path, ""));
  if (!unk_text.empty()) {
    bpe.unk_ = vocab.find(unk_text);
    if (bpe.unk_ == kNoToken)
      return invalid_argument("{} \"{}\" is not in the vocabulary", json_path(path, "unk_token"),
                              unk_text);
  }
  for (int b = 0; b < 256; ++b) bpe.byte_tokens_[b] = vocab.find(fmt::format("<0x{:02X}>", b));

  const std::string merges_path = json_path(path, "merges");
  std::string left;
  std::string right;
  for (size_t rank = 0; rank < merges->size(); ++rank) {
    const Json& m = (*merges)[rank];
    if (m.is_string()) {
      // "left right": exactly one space.
      const std::string& s = m.get_ref<const std::string&>();
      const size_t sep = s.find(' ');
      if (sep == std::string::npos || sep == 0 || sep + 1 >= s.size() ||
          s.find(' ', sep + 1) != std::string::npos)
        return invalid_argument("{} \"{}\" is not two tokens separated by a space",
                                json_path(merges_path, rank), s);
      left.assign(s, 0, sep);
      right.assign(s, sep + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      return invalid_argument("{} must be \"left right\" or [left, right]",
                              json_path(merges_path, rank));
    }
    const TokenId left_id = vocab.find(left);
    const TokenId right_id = vocab.find(right);
    if (left_id == kNoToken || right_id == kNoToken)
      return invalid_argument("{} (\"{}\", \"{}\") names a token that is not in the vocabulary",
                              json_path(merges_path, rank), left, right);
    left.append(right);
    const TokenId result = vocab.find(left);
    if (result == kNoToken)
      return invalid_argument("{} makes \"{}\", which is not in the vocabulary",
                              json_path(merges_path, rank), left);
    bpe.merges_.add(left_id, right_id, static_cast<int32_t>(rank), result);
  }
  return bpe;
}

void HfBpeModel::encode(std::string_view word, std::vector<TokenId>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (const TokenId id = vocab_->find(word); is_model_token(*vocab_, id)) {
      out.push_back(id);
      return;
    }
  }
  thread_local std::vector<TokenId> symbols;
  symbols.clear();
  bool previous_unk = false;
  size_t pos = 0;
  while (pos < word.size()) {
    const int valid = utf8_valid_length(word, pos);
    const size_t len = valid > 0 ? static_cast<size_t>(valid) : 1;
    const std::string_view ch = word.substr(pos, len);
    pos += len;
    if (const TokenId id = vocab_->find(ch); is_model_token(*vocab_, id)) {
      symbols.push_back(id);
      previous_unk = false;
      continue;
    }
    if (byte_fallback_) {
      bool all_bytes = true;
      for (char c : ch) all_bytes = all_bytes && byte_tokens_[static_cast<uint8_t>(c)] != kNoToken;
      if (all_bytes) {
        for (char c : ch) symbols.push_back(byte_tokens_[static_cast<uint8_t>(c)]);
        previous_unk = false;
        continue;
      }
    }
    if (unk_ == kNoToken) continue;  // no unknown token: the character is dropped
    if (!(fuse_unk_ && previous_unk)) symbols.push_back(unk_);
    previous_unk = true;
  }
  merges_.apply(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
  if (symbols.capacity() > (size_t{1} << 20)) std::vector<TokenId>().swap(symbols);
}

}  // namespace inferd::tokenizer

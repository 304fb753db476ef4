#include "tokenizer/vocab.h"

#include <algorithm>
#include <limits>

namespace inferd::tokenizer {

Result<Vocab> Vocab::build(const std::vector<std::string>& texts, std::vector<float> scores,
                           std::vector<TokenType> types) {
  if (texts.empty()) return invalid_argument("vocabulary is empty");
  if (texts.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return invalid_argument("vocabulary has {} tokens, more than token ids can address",
                            texts.size());
  if (!scores.empty() && scores.size() != texts.size())
    return invalid_argument("{} token scores for {} tokens", scores.size(), texts.size());
  if (!types.empty() && types.size() != texts.size())
    return invalid_argument("{} token types for {} tokens", types.size(), texts.size());

  Vocab v;
  size_t total = 0;
  for (const auto& t : texts) total += t.size();
  if (total > std::numeric_limits<uint32_t>::max())
    return invalid_argument("token texts total {} bytes, too many", total);
  v.arena_.reserve(total);
  v.spans_.reserve(texts.size());
  for (const auto& t : texts) {
    v.spans_.push_back({static_cast<uint32_t>(v.arena_.size()), static_cast<uint32_t>(t.size())});
    v.arena_.insert(v.arena_.end(), t.begin(), t.end());
    v.max_token_bytes_ = std::max(v.max_token_bytes_, t.size());
  }
  v.scores_ = std::move(scores);
  v.types_ = types.empty() ? std::vector<TokenType>(texts.size(), TokenType::kNormal)
                           : std::move(types);
  v.index_.reserve(texts.size());
  for (TokenId id = 0; id < v.size(); ++id) {
    const std::string_view text = v.text(id);
    if (text.empty()) continue;
    auto [it, inserted] = v.index_.emplace(text, id);
    if (!inserted)
      return invalid_argument("token {} duplicates the text of token {}", id, it->second);
  }
  return v;
}

}  // namespace inferd::tokenizer

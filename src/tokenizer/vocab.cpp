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
  v.types_ =
      types.empty() ? std::vector<TokenType>(texts.size(), TokenType::kNormal) : std::move(types);
  size_t capacity = 16;
  while (capacity < 2 * texts.size()) capacity *= 2;
  v.slots_.assign(capacity, Slot{0, kNoToken});
  v.slot_mask_ = capacity - 1;
  for (TokenId id = 0; id < v.size(); ++id) {
    const std::string_view text = v.text(id);
    if (text.empty()) continue;
    if (const TokenId other = v.find(text); other != kNoToken)
      return invalid_argument("token {} duplicates the text of token {}", id, other);
    const uint64_t h = hash_bytes(text);
    size_t i = h & v.slot_mask_;
    while (v.slots_[i].id != kNoToken) i = (i + 1) & v.slot_mask_;
    v.slots_[i] = Slot{static_cast<uint32_t>(h >> 32), id};
  }
  return v;
}

}  // namespace inferd::tokenizer

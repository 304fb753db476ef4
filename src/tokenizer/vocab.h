// Vocab: the token table of a tokenizer (texts, types, scores) with text -> id lookup.
// Token texts live in one arena; lookups (open addressing) never allocate.
// Thread safety: immutable after build(); safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/hash_mix.h"
#include "tokenizer/token_types.h"

namespace inferd::tokenizer {

class Vocab {
 public:
  Vocab() = default;
  Vocab(Vocab&&) noexcept = default;
  Vocab& operator=(Vocab&&) noexcept = default;

  // `scores` and `types` are empty or have texts.size() entries. Duplicate non-empty texts are
  // an error; empty texts are kept (for id stability) but are never found by find().
  static Result<Vocab> build(const std::vector<std::string>& texts, std::vector<float> scores,
                             std::vector<TokenType> types);

  int32_t size() const { return static_cast<int32_t>(spans_.size()); }
  bool contains(TokenId id) const { return id >= 0 && id < size(); }

  // REQUIRES: contains(id).
  std::string_view text(TokenId id) const {
    const Span& s = spans_[id];
    return std::string_view(arena_.data() + s.offset, s.length);
  }
  TokenType type(TokenId id) const { return types_[id]; }
  float score(TokenId id) const { return scores_.empty() ? 0.0f : scores_[id]; }
  void set_type(TokenId id, TokenType type) { types_[id] = type; }

  // The id whose text is exactly `text`, or kNoToken.
  TokenId find(std::string_view text) const {
    const uint64_t h = hash_bytes(text);
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & slot_mask_;; i = (i + 1) & slot_mask_) {
      const Slot& slot = slots_[i];
      if (slot.id == kNoToken) return kNoToken;
      if (slot.tag == tag && this->text(slot.id) == text) return slot.id;
    }
  }
  // Longest token text in bytes.
  size_t max_token_bytes() const { return max_token_bytes_; }

 private:
  struct Span {
    uint32_t offset;
    uint32_t length;
  };
  std::vector<char> arena_;  // a vector, not a string: moves never relocate its bytes
  std::vector<Span> spans_;
  std::vector<TokenType> types_;
  std::vector<float> scores_;
  // Open addressing over token texts: at most half full, so probes stop at an empty slot.
  struct Slot {
    uint32_t tag;  // high half of the text's hash
    TokenId id;    // kNoToken: empty
  };
  std::vector<Slot> slots_;
  size_t slot_mask_ = 0;
  size_t max_token_bytes_ = 0;
};

}  // namespace inferd::tokenizer

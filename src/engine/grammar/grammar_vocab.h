// GrammarVocab: what grammar matching needs to know about a vocabulary: each token's bytes and
// whether it is special (control: produced only as itself, never as text) or ends generation.
// Holds the TokenTrie of the ordinary tokens. Built once per model, immutable, shared by every
// grammar and request of that model.
//
// Which tokens can spell text: every token that is neither special nor end-of-generation, has
// at least one byte and at most kMaxTokenBytes. Special tokens are matched only by token
// elements of a grammar (@"text"), end-of-generation tokens only when the grammar is complete.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "inferd/token_id.h"
#include "engine/grammar/token_trie.h"

namespace inferd::tokenizer {
class Tokenizer;
}

namespace inferd::engine {

struct VocabToken {
  std::string bytes;  // the raw bytes; for special tokens their text (e.g. "<|im_end|>")
  bool special = false;
  bool eog = false;
};

class GrammarVocab {
 public:
  static constexpr size_t kMaxTokenBytes = 4096;

  explicit GrammarVocab(std::vector<VocabToken> tokens);
  // Bytes from token_to_piece(id, render_special = false), special texts with it true;
  // special = tokenizer.is_special(id), eog = tokenizer.is_eog(id).
  static std::shared_ptr<const GrammarVocab> from_tokenizer(const tokenizer::Tokenizer& tokenizer);

  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }
  // REQUIRES for the accessors: 0 <= id < size().
  std::string_view bytes(TokenId id) const { return tokens_[static_cast<size_t>(id)].bytes; }
  bool is_special(TokenId id) const { return tokens_[static_cast<size_t>(id)].special; }
  bool is_eog(TokenId id) const { return tokens_[static_cast<size_t>(id)].eog; }
  // Whether the token is in the trie (can spell text).
  bool is_text(TokenId id) const { return in_trie_[static_cast<size_t>(id)] != 0; }
  const std::vector<TokenId>& eog_tokens() const { return eog_; }
  // A token whose bytes are exactly `text`: a special one if any, else the lowest id; -1 if none.
  TokenId find(std::string_view text) const;
  const TokenTrie& trie() const { return trie_; }

 private:
  std::vector<VocabToken> tokens_;
  std::vector<uint8_t> in_trie_;
  std::vector<TokenId> eog_;
  TokenTrie trie_;
};

}  // namespace inferd::engine

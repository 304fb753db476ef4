#include "engine/grammar/grammar_vocab.h"

#include "tokenizer/tokenizer.h"

namespace inferd::engine {

GrammarVocab::GrammarVocab(std::vector<VocabToken> tokens) : tokens_(std::move(tokens)) {
  in_trie_.assign(tokens_.size(), 0);
  std::vector<TokenId> text_ids;
  std::vector<std::string_view> bytes_by_id(tokens_.size());
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const VocabToken& t = tokens_[i];
    const auto id = static_cast<TokenId>(i);
    bytes_by_id[i] = t.bytes;
    if (t.eog) eog_.push_back(id);
    if (t.special || t.eog || t.bytes.empty() || t.bytes.size() > kMaxTokenBytes) continue;
    in_trie_[i] = 1;
    text_ids.push_back(id);
  }
  trie_ = TokenTrie(text_ids, bytes_by_id);
}

std::shared_ptr<const GrammarVocab> GrammarVocab::from_tokenizer(const tokenizer::Tokenizer& tok) {
  std::vector<VocabToken> tokens(static_cast<size_t>(tok.vocab_size()));
  for (TokenId id = 0; id < tok.vocab_size(); ++id) {
    VocabToken& t = tokens[static_cast<size_t>(id)];
    t.special = tok.is_special(id);
    t.eog = tok.is_eog(id);
    t.bytes = tok.token_to_piece(id, t.special);
  }
  return std::make_shared<const GrammarVocab>(std::move(tokens));
}

TokenId GrammarVocab::find(std::string_view text) const {
  TokenId found = -1;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i].bytes != text) continue;
    if (tokens_[i].special) return static_cast<TokenId>(i);
    if (found < 0) found = static_cast<TokenId>(i);
  }
  return found;
}

}  // namespace inferd::engine

#include "tokenizer/bpe_encoder.h"

#include "tokenizer/byte_level.h"

namespace inferd::tokenizer {
namespace {

// Tokens that segmentation may produce from text.
bool producible(TokenType t) {
  return t == TokenType::kNormal || t == TokenType::kUserDefined || t == TokenType::kUndefined;
}

}  // namespace

// Working storage, kept per thread between calls: fresh pages for every request are expensive.
struct BpeEncoder::Scratch {
  std::vector<TextSpan> pieces;
  std::vector<TextSpan> split_scratch;
  std::string text;
  std::vector<TokenId> symbols;

  // Releases storage grown by an unusually long input.
  void trim() {
    constexpr size_t kKeepBytes = size_t{4} << 20;
    if (pieces.capacity() * sizeof(TextSpan) > kKeepBytes) std::vector<TextSpan>().swap(pieces);
    if (split_scratch.capacity() * sizeof(TextSpan) > kKeepBytes)
      std::vector<TextSpan>().swap(split_scratch);
    if (symbols.capacity() * sizeof(TokenId) > kKeepBytes) std::vector<TokenId>().swap(symbols);
    if (text.capacity() > kKeepBytes) std::string().swap(text);
  }
};

Result<BpeEncoder> BpeEncoder::build(const Vocab& vocab, const std::vector<std::string>& merges,
                                     const PreTokenizerSpec& spec, TokenId unk) {
  INFERD_ASSIGN_OR_RETURN(PreTokenizer pre, PreTokenizer::compile(spec));
  BpeEncoder enc(std::move(pre), merges.size());
  enc.vocab_ = &vocab;
  enc.ignore_merges_ = spec.ignore_merges;
  enc.unk_ = unk;
  for (int b = 0; b < 256; ++b) enc.byte_tokens_[b] = vocab.find(byte_to_unicode_utf8(uint8_t(b)));

  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    // The separator is the first space after the first character (a side is never empty).
    const size_t sep = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (sep == std::string::npos || sep + 1 >= m.size())
      return invalid_argument("merge {} \"{}\" is not two tokens separated by a space", rank, m);
    const std::string_view left(m.data(), sep);
    const std::string_view right(m.data() + sep + 1, m.size() - sep - 1);
    const TokenId left_id = vocab.find(left);
    const TokenId right_id = vocab.find(right);
    joined.assign(left).append(right);
    const TokenId result = vocab.find(joined);
    if (left_id == kNoToken || right_id == kNoToken)
      return invalid_argument("merge {} \"{}\" names a token that is not in the vocabulary", rank,
                              m);
    if (result == kNoToken)
      return invalid_argument("merge {} \"{}\" makes \"{}\", which is not in the vocabulary", rank,
                              m, joined);
    enc.merges_.add(left_id, right_id, static_cast<int32_t>(rank), result);
  }
  return enc;
}

void BpeEncoder::encode_piece(std::string_view piece, std::vector<TokenId>& out,
                              Scratch& scratch) const {
  if (piece.size() == 1) {
    const TokenId id = byte_tokens_[static_cast<uint8_t>(piece[0])];
    if (id != kNoToken) {
      out.push_back(id);
    } else if (unk_ != kNoToken) {
      out.push_back(unk_);
    }
    return;
  }
  if (ignore_merges_) {
    scratch.text.clear();
    for (char c : piece) scratch.text.append(byte_to_unicode_utf8(static_cast<uint8_t>(c)));
    const TokenId id = vocab_->find(scratch.text);
    if (id != kNoToken && producible(vocab_->type(id))) {
      out.push_back(id);
      return;
    }
  }

  std::vector<TokenId>& symbols = scratch.symbols;
  symbols.resize(piece.size());
  for (size_t i = 0; i < piece.size(); ++i)
    symbols[i] = byte_tokens_[static_cast<uint8_t>(piece[i])];
  merges_.apply(symbols);
  for (TokenId id : symbols) {
    if (id != kNoToken) {
      out.push_back(id);
    } else if (unk_ != kNoToken) {
      out.push_back(unk_);
    }
  }
}

void BpeEncoder::encode(std::string_view text, std::vector<TokenId>& out) const {
  thread_local Scratch scratch;
  pre_.split(text, scratch.pieces, scratch.split_scratch);
  for (const TextSpan& p : scratch.pieces)
    encode_piece(text.substr(p.offset, p.length), out, scratch);
  scratch.trim();
}

}  // namespace inferd::tokenizer

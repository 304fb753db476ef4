#include "tokenizer/bpe_encoder.h"

#include <algorithm>

#include "tokenizer/byte_level.h"

namespace inferd::tokenizer {
namespace {

struct Symbol {
  TokenId id;  // kNoToken for a byte the vocabulary lacks
  int64_t prev;
  int64_t next;
};

// A candidate merge of symbol `left` with its right neighbour. While the two symbols still hold
// left_id and right_id they are still neighbours (a symbol only loses its neighbour by merging),
// so the entry is current exactly then.
struct Candidate {
  int32_t rank;
  TokenId left_id;
  TokenId right_id;
  TokenId result;
  int64_t left;
};

// Heap order: the top is the lowest rank, then the leftmost.
struct HeapLess {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

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
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;

  // Releases storage grown by an unusually long input.
  void trim() {
    constexpr size_t kKeepBytes = size_t{4} << 20;
    if (pieces.capacity() * sizeof(TextSpan) > kKeepBytes) std::vector<TextSpan>().swap(pieces);
    if (split_scratch.capacity() * sizeof(TextSpan) > kKeepBytes)
      std::vector<TextSpan>().swap(split_scratch);
    if (symbols.capacity() * sizeof(Symbol) > kKeepBytes) std::vector<Symbol>().swap(symbols);
    if (heap.capacity() * sizeof(heap[0]) > kKeepBytes) std::vector<Candidate>().swap(heap);
    if (text.capacity() > kKeepBytes) std::string().swap(text);
  }
};

Result<BpeEncoder> BpeEncoder::build(const Vocab& vocab, const std::vector<std::string>& merges,
                                     const PreTokenizerSpec& spec, TokenId unk) {
  INFERD_ASSIGN_OR_RETURN(PreTokenizer pre, PreTokenizer::compile(spec));
  BpeEncoder enc(std::move(pre));
  enc.vocab_ = &vocab;
  enc.ignore_merges_ = spec.ignore_merges;
  enc.unk_ = unk;
  for (int b = 0; b < 256; ++b) enc.byte_tokens_[b] = vocab.find(byte_to_unicode_utf8(uint8_t(b)));

  size_t capacity = 16;
  while (capacity < 2 * merges.size()) capacity *= 2;
  enc.merges_.assign(capacity, MergeSlot{kEmptyKey, 0, kNoToken});
  enc.merge_mask_ = capacity - 1;
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
    // A repeated pair keeps its first (best) rank.
    const uint64_t k = pair_key(left_id, right_id);
    MergeSlot& slot = enc.merges_[enc.merge_slot(k)];
    if (slot.key == kEmptyKey) slot = MergeSlot{k, static_cast<int32_t>(rank), result};
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

  std::vector<Symbol>& symbols = scratch.symbols;
  symbols.resize(piece.size());
  scratch.heap.reserve(piece.size());
  for (size_t i = 0; i < piece.size(); ++i) {
    symbols[i] = {byte_tokens_[static_cast<uint8_t>(piece[i])], int64_t(i) - 1, int64_t(i) + 1};
  }
  symbols.back().next = -1;

  std::vector<Candidate>& heap = scratch.heap;
  heap.clear();
  auto try_add = [&](int64_t left, int64_t right) {
    if (left < 0 || right < 0) return;
    const TokenId l = symbols[left].id;
    const TokenId r = symbols[right].id;
    if (l == kNoToken || r == kNoToken) return;
    const MergeSlot& m = merges_[merge_slot(pair_key(l, r))];
    if (m.key == kEmptyKey) return;
    heap.push_back({m.rank, l, r, m.result, left});
    std::push_heap(heap.begin(), heap.end(), HeapLess());
  };
  for (int64_t i = 1; i < static_cast<int64_t>(symbols.size()); ++i) try_add(i - 1, i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), HeapLess());
    const Candidate c = heap.back();
    heap.pop_back();
    Symbol& left = symbols[c.left];
    // Stale entry: a side has merged since it was queued.
    if (left.id != c.left_id || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    if (right.id != c.right_id) continue;
    left.id = c.result;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    right.id = kNoToken;
    right.prev = right.next = -2;  // unlinked
    try_add(left.prev, c.left);
    try_add(c.left, left.next);
  }

  for (int64_t i = 0; i != -1; i = symbols[i].next) {
    if (symbols[i].id != kNoToken) {
      out.push_back(symbols[i].id);
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

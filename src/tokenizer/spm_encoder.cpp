#include "tokenizer/spm_encoder.h"

#include <algorithm>
#include <string>

#include "tokenizer/utf8.h"

namespace inferd::tokenizer {
namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581

struct Symbol {
  size_t start;
  size_t length;  // 0 once merged into its left neighbour
  int64_t prev;
  int64_t next;
};

// A candidate merge of symbol `left` with its right neighbour. Lengths only grow, so the entry is
// current exactly while the two symbols' lengths still add up to `length`.
struct Bigram {
  float score;
  uint32_t length;
  int64_t left;
};

// Heap order: the top is the highest score, then the leftmost.
struct HeapLess {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

bool starts_with_marker(std::string_view text, size_t pos) {
  return text.compare(pos, kSpaceMarker.size(), kSpaceMarker) == 0;
}

}  // namespace

// Working storage, kept per thread between calls: fresh pages for every request are expensive.
struct SpmEncoder::Scratch {
  std::string text;
  std::vector<Symbol> symbols;
  std::vector<Bigram> heap;

  // Releases storage grown by an unusually long input.
  void trim() {
    constexpr size_t kKeepBytes = size_t{4} << 20;
    if (symbols.capacity() * sizeof(Symbol) > kKeepBytes) std::vector<Symbol>().swap(symbols);
    if (heap.capacity() * sizeof(heap[0]) > kKeepBytes) std::vector<Bigram>().swap(heap);
    if (text.capacity() > kKeepBytes) std::string().swap(text);
  }
};

SpmEncoder::SpmEncoder(const Vocab& vocab, TokenId unk) : vocab_(&vocab) {
  static const char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const char name[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
    TokenId id = vocab.find(std::string_view(name, 6));
    if (id == kNoToken) {
      const char raw = static_cast<char>(b);
      id = vocab.find(std::string_view(&raw, 1));
    }
    byte_tokens_[b] = id != kNoToken ? id : unk;
  }
  // Words may be segmented separately unless some token continues past a word start.
  split_words_ = true;
  for (TokenId id = 0; id < vocab.size() && split_words_; ++id) {
    const std::string_view text = vocab.text(id);
    size_t pos = 0;
    while (starts_with_marker(text, pos)) pos += kSpaceMarker.size();
    if (text.find(kSpaceMarker, pos) != std::string_view::npos && find_piece(text) != kNoToken)
      split_words_ = false;
  }
}

TokenId SpmEncoder::find_piece(std::string_view text) const {
  if (text.size() > vocab_->max_token_bytes()) return kNoToken;
  const TokenId id = vocab_->find(text);
  if (id == kNoToken) return kNoToken;
  switch (vocab_->type(id)) {
    case TokenType::kNormal:
    case TokenType::kUserDefined:
    case TokenType::kUndefined: return id;
    default: return kNoToken;
  }
}

void SpmEncoder::encode(std::string_view raw, bool space_prefix, std::vector<TokenId>& out) const {
  thread_local Scratch scratch;
  std::string& text = scratch.text;
  text.clear();
  text.reserve(raw.size() + 3 * 8);
  if (space_prefix) text.append(kSpaceMarker);
  for (char c : raw) {
    if (c == ' ') {
      text.append(kSpaceMarker);
    } else {
      text.push_back(c);
    }
  }
  if (text.empty()) return;
  if (!split_words_) {
    scratch.symbols.reserve(text.size());
    scratch.heap.reserve(text.size());
    encode_chunk(text, out, scratch);
    scratch.trim();
    return;
  }
  // Chunks begin at each run of "▁" that follows another character.
  size_t chunk_start = 0;
  for (size_t pos = 1; pos < text.size(); ++pos) {
    if (starts_with_marker(text, pos) &&
        !(pos >= kSpaceMarker.size() && starts_with_marker(text, pos - kSpaceMarker.size()))) {
      encode_chunk(std::string_view(text).substr(chunk_start, pos - chunk_start), out, scratch);
      chunk_start = pos;
    }
  }
  encode_chunk(std::string_view(text).substr(chunk_start), out, scratch);
  scratch.trim();
}

void SpmEncoder::encode_chunk(std::string_view text, std::vector<TokenId>& out,
                              Scratch& scratch) const {
  // One symbol per UTF-8 character (a malformed byte is a character of its own).
  std::vector<Symbol>& symbols = scratch.symbols;
  symbols.clear();
  for (size_t pos = 0; pos < text.size();) {
    int len = utf8_valid_length(text, pos);
    if (len == 0) len = 1;
    const auto index = static_cast<int64_t>(symbols.size());
    symbols.push_back({pos, static_cast<size_t>(len), index - 1, index + 1});
    pos += len;
  }
  symbols.back().next = -1;

  std::vector<Bigram>& heap = scratch.heap;
  heap.clear();
  auto try_add = [&](int64_t left, int64_t right) {
    if (left < 0 || right < 0) return;
    const size_t length = symbols[left].length + symbols[right].length;
    const TokenId id = find_piece(text.substr(symbols[left].start, length));
    if (id == kNoToken) return;  // also rejects lengths above the longest token
    heap.push_back({vocab_->score(id), static_cast<uint32_t>(length), left});
    std::push_heap(heap.begin(), heap.end(), HeapLess());
  };
  for (int64_t i = 1; i < static_cast<int64_t>(symbols.size()); ++i) try_add(i - 1, i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), HeapLess());
    const Bigram bigram = heap.back();
    heap.pop_back();
    Symbol& left = symbols[bigram.left];
    // Stale entry: a side has been merged since it was queued.
    if (left.length == 0 || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    if (left.length + right.length != bigram.length) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    try_add(left.prev, bigram.left);
    try_add(bigram.left, left.next);
  }

  for (int64_t i = 0; i != -1; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    const std::string_view piece = text.substr(s.start, s.length);
    const TokenId id = find_piece(piece);
    if (id != kNoToken) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {
      const TokenId b = byte_tokens_[static_cast<uint8_t>(c)];
      if (b != kNoToken) out.push_back(b);
    }
  }
}

}  // namespace inferd::tokenizer

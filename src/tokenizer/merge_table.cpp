#include "tokenizer/merge_table.h"

#include <algorithm>

#include "base/check.h"

namespace inferd::tokenizer {
namespace {

struct Symbol {
  TokenId id;
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

// Working storage, kept per thread between calls.
struct Scratch {
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;

  // Releases storage grown by an unusually long input.
  void trim() {
    constexpr size_t kKeepBytes = size_t{4} << 20;
    if (symbols.capacity() * sizeof(Symbol) > kKeepBytes) std::vector<Symbol>().swap(symbols);
    if (heap.capacity() * sizeof(Candidate) > kKeepBytes) std::vector<Candidate>().swap(heap);
  }
};

}  // namespace

MergeTable::MergeTable(size_t num_rules) {
  size_t capacity = 16;
  while (capacity < 2 * num_rules) capacity *= 2;
  slots_.assign(capacity, Slot{kEmptyKey, 0, kNoToken});
  mask_ = capacity - 1;
}

void MergeTable::add(TokenId left, TokenId right, int32_t rank, TokenId result) {
  INFERD_CHECK(2 * (num_rules_ + 1) <= slots_.size());
  const uint64_t k = pair_key(left, right);
  Slot& slot = slots_[find_slot(k)];
  if (slot.key != kEmptyKey) return;
  slot = Slot{k, rank, result};
  ++num_rules_;
}

void MergeTable::apply(std::vector<TokenId>& ids) const {
  if (ids.size() < 2 || num_rules_ == 0) return;
  thread_local Scratch scratch;
  std::vector<Symbol>& symbols = scratch.symbols;
  symbols.resize(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) symbols[i] = {ids[i], int64_t(i) - 1, int64_t(i) + 1};
  symbols.back().next = -1;

  std::vector<Candidate>& heap = scratch.heap;
  heap.clear();
  auto try_add = [&](int64_t left, int64_t right) {
    if (left < 0 || right < 0) return;
    const TokenId l = symbols[left].id;
    const TokenId r = symbols[right].id;
    if (l == kNoToken || r == kNoToken) return;
    const Slot& m = slots_[find_slot(pair_key(l, r))];
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

  ids.clear();
  for (int64_t i = 0; i != -1; i = symbols[i].next) ids.push_back(symbols[i].id);
  scratch.trim();
}

}  // namespace inferd::tokenizer

// TokenTrie: the byte strings of a vocabulary's ordinary tokens as a trie stored in preorder, so
// that a depth-first walk is a loop over arrays and a whole subtree is skipped with one jump.
// Tokens are also listed in that order (lexicographic by bytes; equal strings adjacent), which
// makes the tokens of any subtree one contiguous range.
//
// Immutable after construction; shared by every grammar compiled for the vocabulary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "inferd/token_id.h"

namespace inferd::engine {

class TokenTrie {
 public:
  struct Node {
    uint8_t byte;
    uint8_t unused;
    uint16_t depth;  // 1 for children of the root
    uint32_t end;    // one past the last node of this node's subtree
  };

  TokenTrie() = default;
  // The tokens `ids`, whose bytes are bytes_by_id[id]. REQUIRES: each non-empty and at most
  // kMaxTokenBytes long.
  TokenTrie(std::span<const TokenId> ids, std::span<const std::string_view> bytes_by_id);

  static constexpr size_t kMaxTokenBytes = 65535;

  size_t num_nodes() const { return nodes_.size(); }
  const Node& node(size_t i) const { return nodes_[i]; }
  const Node* nodes() const { return nodes_.data(); }
  // Tokens in trie order.
  std::span<const TokenId> order() const { return order_; }
  // Position of node i's first token in order(); the tokens ending exactly at node i are
  // [first_token(i), first_token(i + 1)); its subtree's are [first_token(i), first_token(end)).
  // REQUIRES: i <= num_nodes().
  uint32_t first_token(size_t i) const { return first_token_[i]; }
  // Length of the longest token.
  size_t max_depth() const { return max_depth_; }

 private:
  std::vector<Node> nodes_;
  std::vector<uint32_t> first_token_;  // num_nodes() + 1
  std::vector<TokenId> order_;
  size_t max_depth_ = 0;
};

}  // namespace inferd::engine

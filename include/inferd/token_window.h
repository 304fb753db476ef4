// TokenWindow: how often each token occurs among the last `window` tokens pushed (the penalty
// window of a Sampler). Updates are O(1); the distinct tokens present are listed without scanning
// the vocabulary. Memory: 4 bytes per vocabulary entry plus the window's tokens.
// Allocation: none after construction when the window is -1 (whole history) or at most
// kPreallocTokens; a larger window grows its token buffer until it holds 2 * window tokens.
// Thread safety: none (owned by one request's Sampler).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "inferd/token_id.h"

namespace inferd {

class TokenWindow {
 public:
  static constexpr int32_t kPreallocTokens = 1 << 16;

  struct Entry {
    TokenId id;
    int32_t count;  // > 0
  };

  // window: -1 = every token pushed; 0 = none (counts stay empty); > 0 = the last `window`.
  TokenWindow(int vocab_size, int32_t window);

  // REQUIRES 0 <= token < vocab_size.
  void push(TokenId token);
  // Occurrences of `token` in the window (0 when absent or out of range).
  int32_t count(TokenId token) const;
  // Tokens with a non-zero count, in no particular order; valid until the next push().
  std::span<const Entry> distinct() const { return distinct_; }
  // Tokens currently inside the window.
  size_t num_tokens() const { return num_tokens_; }

 private:
  void add(TokenId token);
  void remove(TokenId token);

  int32_t window_;
  std::vector<int32_t> slot_;    // per vocabulary entry: index into distinct_, or -1
  std::vector<Entry> distinct_;  // capacity min(vocab, window): never reallocates
  // window > 0: pushed tokens; those at [oldest_, size) are inside the window.
  std::vector<TokenId> recent_;
  size_t oldest_ = 0;
  size_t num_tokens_ = 0;
};

}  // namespace inferd

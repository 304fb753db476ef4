// SpecialTokenMatcher: finds the texts of control, unknown and user-defined tokens in raw text,
// so that they become single tokens before segmentation. Matching is leftmost-longest over all
// candidate texts (the rule Hugging Face's added-vocabulary matcher applies); control and unknown
// tokens take part only when special tokens are parsed, user-defined tokens always.
// Per-token lstrip/rstrip flags swallow the whitespace before/after a matched token.
// Thread safety: immutable after construction; safe to share.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/token_types.h"
#include "tokenizer/vocab.h"

namespace inferd::tokenizer {

// A run of raw text [offset, offset + length) or, when token != kNoToken, one matched token.
struct Segment {
  size_t offset = 0;
  size_t length = 0;
  TokenId token = kNoToken;
};

class SpecialTokenMatcher {
 public:
  SpecialTokenMatcher() = default;
  // Indexes every non-empty token of a partition type (control, unknown, user-defined).
  // `lstrip`/`rstrip` are empty or have one flag per token.
  SpecialTokenMatcher(const Vocab& vocab, std::vector<uint8_t> lstrip, std::vector<uint8_t> rstrip);

  // Replaces `out` with the segments of `text`, in order. Raw segments are never empty.
  void partition(std::string_view text, bool parse_special, std::vector<Segment>& out) const;

  bool empty() const { return nodes_.size() <= 1; }

 private:
  struct Node {
    uint32_t first_edge = 0;  // edges_[first_edge, first_edge + num_edges), sorted by byte
    uint16_t num_edges = 0;
    TokenId token = kNoToken;  // a token ends here
    bool always = false;       // that token is user-defined (matched without parse_special)
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  // Longest match starting at text[pos]: its token (kNoToken if none) and length.
  TokenId longest_match(std::string_view text, size_t pos, bool parse_special, size_t& len) const;

  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  bool first_byte_[256] = {};
  std::vector<uint8_t> lstrip_;
  std::vector<uint8_t> rstrip_;
};

}  // namespace inferd::tokenizer

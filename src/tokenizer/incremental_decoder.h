// IncrementalDecoder: detokenizes a stream of token ids one at a time, releasing text only when it
// is complete UTF-8. Bytes of a character split across tokens are held back until the character
// is complete; malformed bytes become U+FFFD, so everything released is valid UTF-8. For a token
// sequence whose decode() is valid UTF-8, the concatenated output of push() calls and flush()
// equals Tokenizer::decode() of the sequence (including the SentencePiece leading-space rule).
// No heap allocation per token beyond the growth of the caller's output string.
// Thread safety: one decoder per stream; the Tokenizer may be shared.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "tokenizer/leading_space_rule.h"
#include "tokenizer/tokenizer.h"

namespace inferd::tokenizer {

class IncrementalDecoder {
 public:
  // `skip_special`: control and unknown tokens produce no text. `at_sequence_start`: the first
  // token fed begins the text, so decode()'s leading-space rule applies to it; pass false when
  // continuing after a prompt (a generated "▁Hello" then yields " Hello").
  // REQUIRES: `tokenizer` outlives the decoder.
  IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special, bool at_sequence_start = true);

  // Appends to `out` the text that `id` completes; returns the number of bytes appended.
  // Ids outside the vocabulary produce nothing.
  size_t push(TokenId id, std::string& out);
  // Convenience: the text that `id` completes.
  std::string push(TokenId id);

  // Appends the held-back bytes of an unfinished character (as U+FFFD) and clears them.
  size_t flush(std::string& out);
  std::string flush();

  // Starts a new stream.
  void reset(bool at_sequence_start = true);

  // Bytes currently held back (0..3).
  size_t pending_bytes() const { return num_pending_; }

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  LeadingSpaceRule rule_;
  std::array<char, 4> pending_{};
  uint8_t num_pending_ = 0;
};

}  // namespace inferd::tokenizer

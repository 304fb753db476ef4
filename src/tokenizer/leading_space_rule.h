// LeadingSpaceRule: the decoding side of SentencePiece's space prefix (and of WordPiece's word
// marker). encode() prepends a space to the text at the start and after every special or added
// token; decoding removes one leading space from the first text piece in those places. Shared by
// Tokenizer::decode() and IncrementalDecoder so that both produce the same text.
#pragma once

#include <string_view>

namespace inferd::tokenizer {

class LeadingSpaceRule {
 public:
  // `enabled`: the vocabulary adds a space prefix. `at_start`: the next piece begins the text.
  LeadingSpaceRule(bool enabled, bool at_start) : enabled_(enabled), strip_(enabled && at_start) {}

  // The part of a token's piece to output. `partition_token`: a control, unknown or user-defined
  // token (its piece is returned unchanged and the next text piece loses its leading space).
  std::string_view apply(bool partition_token, std::string_view piece) {
    if (partition_token) {
      strip_ = enabled_;
      return piece;
    }
    if (strip_ && !piece.empty()) {
      strip_ = false;
      if (piece.front() == ' ') piece.remove_prefix(1);
    }
    return piece;
  }

  void reset(bool at_start) { strip_ = enabled_ && at_start; }

 private:
  bool enabled_;
  bool strip_;
};

}  // namespace inferd::tokenizer

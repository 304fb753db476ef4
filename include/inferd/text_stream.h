// TextStream: turns generated tokens into text as they arrive, releasing only complete UTF-8
// (a character split across tokens is held back until it completes; malformed bytes become
// U+FFFD). The concatenated output equals Model::detokenize() of the tokens.
// Thread safety: one stream per generation; the Model may be shared.
#pragma once

#include <memory>
#include <string>

#include "inferd/token_id.h"

namespace inferd {

class Model;

class TextStream {
 public:
  // `at_sequence_start`: the first token begins the text (SentencePiece models then drop the
  // leading space of its first word); pass false to continue text that precedes the tokens.
  // REQUIRES `model` outlives the stream.
  TextStream(const Model& model, bool skip_special = true, bool at_sequence_start = true);
  ~TextStream();
  TextStream(TextStream&&) noexcept;
  TextStream& operator=(TextStream&&) noexcept;

  // Appends the text that `token` completes to `out`; returns the bytes appended.
  size_t push(TokenId token, std::string& out);
  // Appends what is held back (an unfinished character, as U+FFFD) and clears it.
  size_t flush(std::string& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd

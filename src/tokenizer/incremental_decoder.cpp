#include "tokenizer/incremental_decoder.h"

#include <string_view>

#include "tokenizer/utf8.h"

namespace inferd::tokenizer {
namespace {

bool all_valid(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const auto b = static_cast<uint8_t>(text[pos]);
    if (b < 0x80) {
      ++pos;
      continue;
    }
    const int len = utf8_valid_length(text, pos);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

}  // namespace

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special,
                                       bool at_sequence_start)
    : tokenizer_(&tokenizer),
      skip_special_(skip_special),
      rule_(tokenizer.strips_leading_space(), at_sequence_start) {}

void IncrementalDecoder::reset(bool at_sequence_start) {
  rule_.reset(at_sequence_start);
  num_pending_ = 0;
}

size_t IncrementalDecoder::push(TokenId id, std::string& out) {
  if (!tokenizer_->contains(id)) return 0;
  const TokenType type = tokenizer_->token_type(id);
  const bool hidden = skip_special_ && is_special_type(type);
  const std::string_view piece =
      rule_.apply(is_partition_type(type), hidden ? std::string_view() : tokenizer_->piece(id));
  if (piece.empty()) return 0;

  // Append held-back bytes and the piece, then hold back an unfinished character at the end.
  const size_t start = out.size();
  out.append(pending_.data(), num_pending_);
  out.append(piece);
  const size_t hold = utf8_incomplete_suffix(std::string_view(out).substr(start));
  for (size_t i = 0; i < hold; ++i) pending_[i] = out[out.size() - hold + i];
  num_pending_ = static_cast<uint8_t>(hold);
  out.resize(out.size() - hold);

  // Malformed bytes (rare) are replaced; the common valid case is left in place.
  if (!all_valid(std::string_view(out).substr(start))) {
    const std::string raw = out.substr(start);
    out.resize(start);
    utf8_append_sanitized(out, raw);
  }
  return out.size() - start;
}

std::string IncrementalDecoder::push(TokenId id) {
  std::string out;
  push(id, out);
  return out;
}

size_t IncrementalDecoder::flush(std::string& out) {
  if (num_pending_ == 0) return 0;
  num_pending_ = 0;
  const size_t start = out.size();
  utf8_append(out, kReplacementChar);
  return out.size() - start;
}

std::string IncrementalDecoder::flush() {
  std::string out;
  flush(out);
  return out;
}

}  // namespace inferd::tokenizer

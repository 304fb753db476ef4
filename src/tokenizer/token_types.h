// Basic tokenizer types shared by the whole layer.
#pragma once

#include <cstdint>

namespace inferd::tokenizer {

using TokenId = int32_t;
// "No such token" (an absent special token, an unknown text).
inline constexpr TokenId kNoToken = -1;

// Token types as stored in tokenizer.ggml.token_type.
enum class TokenType : uint8_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,  // BOS, EOS, chat markers: only produced from text when special tokens are parsed
  kUserDefined = 4,  // added tokens: always matched in text as a whole
  kUnused = 5,
  kByte = 6,  // SentencePiece byte fallback "<0xAB>"
};
inline constexpr int kNumTokenTypes = 7;

// The segmentation algorithm: named by tokenizer.ggml.model, or a tokenizer.json model.
enum class TokenizerModel : uint8_t {
  kSpm,        // "llama": SentencePiece BPE by piece score, byte fallback
  kBpe,        // "gpt2": byte-level BPE by merge rank after a regex pre-tokenizer
  kWordPiece,  // "bert": BERT basic tokenizer + greedy longest-match WordPiece
  kHfBpe,      // tokenizer.json "BPE": data-driven normalizer, pre-tokenizer and decoder steps
};

// Tokens that are split out of the text before the segmentation algorithm runs.
inline bool is_partition_type(TokenType t) {
  return t == TokenType::kControl || t == TokenType::kUnknown || t == TokenType::kUserDefined;
}
// Tokens that render as text only when special tokens are rendered.
inline bool is_special_type(TokenType t) {
  return t == TokenType::kControl || t == TokenType::kUnknown;
}

}  // namespace inferd::tokenizer

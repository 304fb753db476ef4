// Test helper: builds tokenizer metadata in memory and loads a Tokenizer from it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "format/gguf_file.h"
#include "format/gguf_writer.h"
#include "tokenizer/tokenizer.h"

namespace inferd::tokenizer::testing {

inline format::GgufArray string_array(std::vector<std::string> v) {
  format::GgufArray a;
  a.elem_type = format::GgufType::kString;
  a.items = std::move(v);
  return a;
}
inline format::GgufArray f32_array(std::vector<float> v) {
  format::GgufArray a;
  a.elem_type = format::GgufType::kF32;
  a.items = std::move(v);
  return a;
}
inline format::GgufArray i32_array(std::vector<int32_t> v) {
  format::GgufArray a;
  a.elem_type = format::GgufType::kI32;
  a.items = std::move(v);
  return a;
}

// A writer with tokenizer.ggml.* entries; tests add or override keys before loading.
struct VocabSpec {
  std::string model = "llama";
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::vector<std::string> merges;

  format::GgufWriter writer() const {
    format::GgufWriter w;
    w.set_string("general.architecture", "llama");
    w.set_string("tokenizer.ggml.model", model);
    w.set_array("tokenizer.ggml.tokens", string_array(tokens));
    if (!scores.empty()) w.set_array("tokenizer.ggml.scores", f32_array(scores));
    if (!types.empty()) w.set_array("tokenizer.ggml.token_type", i32_array(types));
    if (!merges.empty()) w.set_array("tokenizer.ggml.merges", string_array(merges));
    return w;
  }
};

inline Result<std::unique_ptr<Tokenizer>> load(const format::GgufWriter& w) {
  const std::vector<uint8_t> bytes = w.to_bytes();
  INFERD_ASSIGN_OR_RETURN(auto file, format::GgufFile::parse(bytes, "test.gguf"));
  // The tokenizer copies what it needs; the bytes may go away afterwards.
  return Tokenizer::from_gguf(*file);
}

// SentencePiece-style vocabulary: <unk> <s> </s>, 256 byte tokens, then `pieces` (score = -index,
// so earlier pieces merge first), then `extra` tokens with the given types.
inline VocabSpec spm_spec(const std::vector<std::string>& pieces,
                          const std::vector<std::pair<std::string, int32_t>>& extra = {}) {
  VocabSpec s;
  s.model = "llama";
  s.tokens = {"<unk>", "<s>", "</s>"};
  s.types = {2, 3, 3};
  static const char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    s.tokens.push_back(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">");
    s.types.push_back(6);
  }
  s.scores.assign(s.tokens.size(), 0.0f);
  for (size_t i = 0; i < pieces.size(); ++i) {
    s.tokens.push_back(pieces[i]);
    s.types.push_back(1);
    s.scores.push_back(-static_cast<float>(i));
  }
  for (const auto& [text, type] : extra) {
    s.tokens.push_back(text);
    s.types.push_back(type);
    s.scores.push_back(0.0f);
  }
  return s;
}

}  // namespace inferd::tokenizer::testing

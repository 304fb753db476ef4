// Tokenizer: text <-> token ids for a model, built from the tokenizer.ggml.* metadata of a GGUF
// file or from a Hugging Face tokenizer.json. Supports SentencePiece-style BPE ("llama"),
// byte-level BPE with named pre-tokenizers ("gpt2", see pre_tokenizer_table.h), WordPiece
// ("bert"), and tokenizer.json BPE models with their normalizer, pre-tokenizer, decoder and
// post-processor steps as data (HfPipeline).
//
// Thread safety: immutable after construction; every method is const and safe to call from any
// number of threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "format/gguf_file.h"
#include "tokenizer/hf_tokenizer_config.h"
#include "tokenizer/token_types.h"

namespace inferd::tokenizer {

class Vocab;
class SpmEncoder;
class BpeEncoder;
class WordPieceEncoder;
class SpecialTokenMatcher;
class HfPipeline;

// Special token ids; kNoToken where the vocabulary has none.
struct SpecialTokens {
  TokenId bos = kNoToken;
  TokenId eos = kNoToken;
  TokenId eot = kNoToken;  // end of turn
  TokenId eom = kNoToken;  // end of message (tool call follows)
  TokenId unk = kNoToken;
  TokenId sep = kNoToken;
  TokenId pad = kNoToken;
  TokenId cls = kNoToken;
  TokenId mask = kNoToken;
};

// Options read from metadata (after the model family's defaults).
struct TokenizerFlags {
  bool add_bos = false;           // encode(add_special) starts with BOS
  bool add_eos = false;           // encode(add_special) ends with EOS
  bool add_sep = false;           // encode(add_special) ends with SEP (BERT, RoBERTa)
  bool add_space_prefix = false;  // SPM: a space is prepended to text at the start and after
                                  // every special token; decode removes it again
  bool remove_extra_whitespaces = false;     // SPM: trim and collapse runs of spaces first
  bool decode_strips_leading_space = false;  // tokenizer.json: the decoder drops the space that
                                             // starts the text (Metaspace, Strip)
};

class Tokenizer {
 public:
  // Reads and validates the tokenizer metadata. Every malformed or inconsistent entry (missing
  // tokens, mismatched array lengths, bad types, out-of-range ids, bad merges, an unknown model
  // or pre-tokenizer) is an error naming the key.
  static Result<std::unique_ptr<Tokenizer>> from_gguf(const format::GgufFile& file);

  // The tokenizer of a Hugging Face model directory: `dir`/tokenizer.json (required) with the
  // special token texts of tokenizer_config.json / special_tokens_map.json (see
  // HfTokenizerConfig::read(), which also gives the directory's chat template). BOS is the
  // token the post-processor (TemplateProcessing) puts first, else bos_token; EOS is eos_token.
  // add_bos / add_eos follow the post-processor. Every malformed or unsupported part is an error
  // naming the file and the JSON path ("pre_tokenizer.pretokenizers[1].type ...").
  static Result<std::unique_ptr<Tokenizer>> from_hf_dir(const std::filesystem::path& dir);
  // As from_hf_dir(), from the text of a tokenizer.json and an already read configuration.
  static Result<std::unique_ptr<Tokenizer>> from_hf_json(std::string_view tokenizer_json,
                                                         const HfTokenizerConfig& config);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text`. add_special: add BOS / EOS / SEP as the metadata asks. parse_special:
  // texts of control tokens ("<s>", "<|eot_id|>") in `text` become those tokens; otherwise they
  // are ordinary text. User-defined (added) tokens are always recognised. Any bytes are accepted.
  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const;
  // As encode(), appending to `out`.
  void encode_into(std::string_view text, bool add_special, bool parse_special,
                   std::vector<TokenId>& out) const;

  // The raw bytes a token stands for: SPM "▁" becomes a space, byte tokens "<0xAB>" that byte,
  // byte-level BPE characters their bytes. Control and unknown tokens give their text when
  // `render_special`, else nothing. An id outside the vocabulary gives nothing.
  std::string token_to_piece(TokenId id, bool render_special) const;
  // As token_to_piece(id, true) without copying; valid as long as the tokenizer.
  std::string_view piece(TokenId id) const;

  // Concatenated pieces of `ids` (special tokens omitted when `skip_special`). When
  // strips_leading_space(), the leading space of the first text token, and of the first text
  // token after each special or user-defined token, is removed: the inverse of encode(). Pieces
  // are raw bytes and may be partial UTF-8 (see IncrementalDecoder for streaming).
  std::string decode(std::span<const TokenId> ids, bool skip_special) const;

  int32_t vocab_size() const;
  TokenizerModel model() const { return model_; }
  // The pre-tokenizer name (tokenizer.ggml.pre), "" when absent.
  const std::string& pre_tokenizer_name() const { return pre_name_; }
  const SpecialTokens& special() const { return special_; }
  const TokenizerFlags& flags() const { return flags_; }
  // Whether decoding drops the space that marks the first word (SentencePiece with a space
  // prefix, and WordPiece, whose word-initial pieces all start with one).
  bool strips_leading_space() const {
    return flags_.add_space_prefix || flags_.decode_strips_leading_space ||
           model_ == TokenizerModel::kWordPiece;
  }
  TokenId bos() const { return special_.bos; }
  TokenId eos() const { return special_.eos; }
  TokenId eot() const { return special_.eot; }

  // End of generation: EOS, EOT, EOM and the vocabulary's other end markers (<|im_end|>, <|end|>,
  // <end_of_turn>, <|eom_id|>, ...).
  bool is_eog(TokenId id) const;
  const std::vector<TokenId>& eog_tokens() const { return eog_; }

  bool contains(TokenId id) const { return id >= 0 && id < vocab_size(); }
  // REQUIRES for the three accessors below: contains(id).
  std::string_view token_text(TokenId id) const;
  TokenType token_type(TokenId id) const;
  float token_score(TokenId id) const;
  // Control or unknown: rendered only on request.
  bool is_special(TokenId id) const { return contains(id) && is_special_type(token_type(id)); }
  // The token whose text is exactly `text`, or kNoToken.
  TokenId find_token(std::string_view text) const;

 private:
  Tokenizer();
  // Encodes one run of raw text (no special tokens in it). `at_text_start`: the run begins the
  // whole input.
  void encode_raw(std::string_view text, bool after_special, bool at_text_start,
                  std::vector<TokenId>& out) const;
  void build_pieces();
  friend class TokenizerBuilder;
  friend class HfTokenizerBuilder;

  TokenizerModel model_ = TokenizerModel::kSpm;
  std::string pre_name_;
  SpecialTokens special_;
  TokenizerFlags flags_;
  std::unique_ptr<Vocab> vocab_;
  std::unique_ptr<SpmEncoder> spm_;
  std::unique_ptr<BpeEncoder> bpe_;
  std::unique_ptr<WordPieceEncoder> wordpiece_;
  std::unique_ptr<HfPipeline> hf_;
  std::unique_ptr<SpecialTokenMatcher> matcher_;
  std::vector<TokenId> eog_;
  std::vector<uint8_t> is_eog_;  // per token
  // Rendered pieces (special tokens as their text), one arena.
  std::vector<char> piece_arena_;
  std::vector<uint32_t> piece_offsets_;  // vocab_size() + 1 entries
};

}  // namespace inferd::tokenizer

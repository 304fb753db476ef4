#include "tokenizer/tokenizer.h"

#include "tokenizer/bpe_encoder.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/hf_pipeline.h"
#include "tokenizer/hf_tokenizer_builder.h"
#include "tokenizer/leading_space_rule.h"
#include "tokenizer/special_token_matcher.h"
#include "tokenizer/spm_encoder.h"
#include "tokenizer/tokenizer_builder.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece_encoder.h"

namespace inferd::tokenizer {
namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581

// Appends `text` with every U+2581 replaced by a space.
void append_unescaped_spaces(std::string& out, std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t hit = text.find(kSpaceMarker, pos);
    if (hit == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, hit - pos));
    out.push_back(' ');
    pos = hit + kSpaceMarker.size();
  }
}

// SentencePiece's remove_extra_whitespaces: no leading or trailing spaces, single inner spaces.
std::string collapse_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (c == ' ') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const format::GgufFile& file) {
  auto tok = TokenizerBuilder::build(file);
  if (!tok.ok()) return tok.status().with_context("tokenizer of " + file.path());
  return tok;
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_hf_json(std::string_view tokenizer_json,
                                                           const HfTokenizerConfig& config) {
  return HfTokenizerBuilder::build(tokenizer_json, config);
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_hf_dir(const std::filesystem::path& dir) {
  INFERD_ASSIGN_OR_RETURN(HfTokenizerConfig config, HfTokenizerConfig::read(dir));
  const std::filesystem::path path = dir / "tokenizer.json";
  INFERD_ASSIGN_OR_RETURN(std::string json, read_text_file(path, /*optional=*/false));
  auto tok = HfTokenizerBuilder::build(json, config);
  if (!tok.ok()) return tok.status().with_context(path.string());
  return tok;
}

int32_t Tokenizer::vocab_size() const {
  return vocab_->size();
}
std::string_view Tokenizer::token_text(TokenId id) const {
  return vocab_->text(id);
}
TokenType Tokenizer::token_type(TokenId id) const {
  return vocab_->type(id);
}
float Tokenizer::token_score(TokenId id) const {
  return vocab_->score(id);
}
TokenId Tokenizer::find_token(std::string_view text) const {
  return vocab_->find(text);
}

bool Tokenizer::is_eog(TokenId id) const {
  return contains(id) && is_eog_[id] != 0;
}

void Tokenizer::build_pieces() {
  const int32_t n = vocab_->size();
  piece_offsets_.assign(static_cast<size_t>(n) + 1, 0);
  std::string piece;
  std::string arena;
  for (TokenId id = 0; id < n; ++id) {
    piece.clear();
    const std::string_view text = vocab_->text(id);
    const TokenType type = vocab_->type(id);
    if (model_ == TokenizerModel::kHfBpe) {
      // Special tokens stand for their text as written; the decoder turns every other token
      // (added ones included, as Hugging Face's decode() does) into its bytes.
      if (is_special_type(type)) {
        piece.assign(text);
      } else if (type != TokenType::kUnused) {
        piece = hf_->decoder().piece(text);
      }
    } else if (is_partition_type(type)) {
      piece.assign(text);  // added and special tokens stand for their text as written
    } else if (type == TokenType::kByte && model_ == TokenizerModel::kSpm) {
      // "<0xAB>"
      unsigned value = 0;
      bool ok = text.size() == 6 && text.substr(0, 3) == "<0x" && text[5] == '>';
      for (size_t i = 3; ok && i < 5; ++i) {
        const char c = text[i];
        const int digit = (c >= '0' && c <= '9')   ? c - '0'
                          : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                          : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                                   : -1;
        ok = digit >= 0;
        value = value * 16 + static_cast<unsigned>(digit);
      }
      if (ok) {
        piece.push_back(static_cast<char>(value));
      } else {
        piece.assign(text);
      }
    } else if (type == TokenType::kUnused) {
      // Unused slots stand for nothing.
    } else if (model_ == TokenizerModel::kBpe) {
      byte_level_decode_append(piece, text);
    } else {
      append_unescaped_spaces(piece, text);
    }
    arena.append(piece);
    piece_offsets_[id + 1] = static_cast<uint32_t>(arena.size());
  }
  piece_arena_.assign(arena.begin(), arena.end());
}

std::string_view Tokenizer::piece(TokenId id) const {
  if (!contains(id)) return {};
  const uint32_t begin = piece_offsets_[id];
  return std::string_view(piece_arena_.data() + begin, piece_offsets_[id + 1] - begin);
}

std::string Tokenizer::token_to_piece(TokenId id, bool render_special) const {
  if (!contains(id)) return {};
  if (!render_special && is_special_type(vocab_->type(id))) return {};
  return std::string(piece(id));
}

void Tokenizer::encode_raw(std::string_view text, bool after_special, bool at_text_start,
                           std::vector<TokenId>& out) const {
  switch (model_) {
    case TokenizerModel::kSpm: {
      if (flags_.remove_extra_whitespaces) {
        const std::string collapsed = collapse_spaces(text);
        if (!collapsed.empty())
          spm_->encode(collapsed, flags_.add_space_prefix && after_special, out);
        return;
      }
      spm_->encode(text, flags_.add_space_prefix && after_special, out);
      return;
    }
    case TokenizerModel::kBpe: bpe_->encode(text, out); return;
    case TokenizerModel::kWordPiece: wordpiece_->encode(text, out); return;
    case TokenizerModel::kHfBpe: hf_->encode(text, at_text_start, out); return;
  }
}

void Tokenizer::encode_into(std::string_view text, bool add_special, bool parse_special,
                            std::vector<TokenId>& out) const {
  if (add_special && flags_.add_bos) out.push_back(special_.bos);
  std::vector<Segment> segments;
  matcher_->partition(text, parse_special, segments);
  bool after_special = true;  // the start of the text counts as following a special token
  for (const Segment& seg : segments) {
    if (seg.token != kNoToken) {
      out.push_back(seg.token);
      after_special = true;
      continue;
    }
    encode_raw(text.substr(seg.offset, seg.length), after_special, seg.offset == 0, out);
    after_special = false;
  }
  if (add_special && flags_.add_eos) out.push_back(special_.eos);
  if (add_special && flags_.add_sep) out.push_back(special_.sep);
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  encode_into(text, add_special, parse_special, out);
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
  std::string out;
  LeadingSpaceRule rule(strips_leading_space(), /*at_start=*/true);
  for (TokenId id : ids) {
    if (!contains(id)) continue;
    const TokenType type = vocab_->type(id);
    const bool hidden = skip_special && is_special_type(type);
    out.append(rule.apply(is_partition_type(type), hidden ? std::string_view() : piece(id)));
  }
  return out;
}

}  // namespace inferd::tokenizer

#include "tokenizer/hf_decoder.h"

#include <memory>

#include "tokenizer/byte_level.h"

namespace inferd::tokenizer {
namespace {

using Builder = HfDecoder::Builder;
using Step = HfDecoder::Step;

Status add_step(const Json& spec, std::string_view path, Builder& b);

// The byte "<0xAB>" stands for, or -1.
int byte_token_value(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = text[i];
    const int digit = (c >= '0' && c <= '9')   ? c - '0'
                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                      : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                               : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

Status build_byte_level(const Json&, std::string_view, Builder& b) {
  b.steps.push_back([](std::string& text) {
    std::string out;
    byte_level_decode_append(out, text);
    text.swap(out);
  });
  return Status();
}

Status build_byte_fallback(const Json&, std::string_view path, Builder& b) {
  if (b.fused) return unsupported("{}: ByteFallback after Fuse is not supported", path);
  b.steps.push_back([](std::string& text) {
    if (const int v = byte_token_value(text); v >= 0) text.assign(1, static_cast<char>(v));
  });
  return Status();
}

Status build_fuse(const Json&, std::string_view, Builder& b) {
  b.fused = true;
  return Status();
}

Status build_strip(const Json& spec, std::string_view path, Builder& b) {
  INFERD_ASSIGN_OR_RETURN(std::string content, json_string(spec, "content", path));
  INFERD_ASSIGN_OR_RETURN(int64_t start, json_int_or(spec, "start", path, 0));
  INFERD_ASSIGN_OR_RETURN(int64_t stop, json_int_or(spec, "stop", path, 0));
  if (start < 0 || stop < 0) return invalid_argument("{}: start and stop must be >= 0", path);
  if (b.fused) {
    if (content != " " || start > 1 || stop != 0)
      return unsupported("{}: after Fuse only a Strip of one leading space is supported", path);
    b.strips_leading_space = b.strips_leading_space || start == 1;
    return Status();
  }
  b.steps.push_back([content, start, stop](std::string& text) {
    size_t begin = 0;
    size_t end = text.size();
    for (int64_t i = 0; i < start && end - begin >= content.size() &&
                        text.compare(begin, content.size(), content) == 0;
         ++i)
      begin += content.size();
    for (int64_t i = 0; i < stop && end - begin >= content.size() &&
                        text.compare(end - content.size(), content.size(), content) == 0;
         ++i)
      end -= content.size();
    text = text.substr(begin, end - begin);
  });
  return Status();
}

Status build_replace(const Json& spec, std::string_view path, Builder& b) {
  INFERD_ASSIGN_OR_RETURN(HfRegex pattern, json_pattern(spec, "pattern", path));
  INFERD_ASSIGN_OR_RETURN(std::string content, json_string(spec, "content", path));
  auto re = std::make_shared<const HfRegex>(std::move(pattern));
  b.steps.push_back([re, content](std::string& text) { text = re->replace_all(text, content); });
  return Status();
}

Status build_metaspace(const Json& spec, std::string_view path, Builder& b) {
  INFERD_ASSIGN_OR_RETURN(std::string replacement,
                          json_string_or(spec, "replacement", path, "\xE2\x96\x81"));
  INFERD_ASSIGN_OR_RETURN(HfRegex marker, HfRegex::compile(replacement, /*literal=*/true));
  bool prepends = true;
  if (spec.contains("prepend_scheme")) {
    INFERD_ASSIGN_OR_RETURN(std::string s, json_string(spec, "prepend_scheme", path));
    prepends = s != "never";
  } else {
    INFERD_ASSIGN_OR_RETURN(prepends, json_bool_or(spec, "add_prefix_space", path, true));
  }
  b.strips_leading_space = b.strips_leading_space || prepends;
  auto re = std::make_shared<const HfRegex>(std::move(marker));
  b.steps.push_back([re](std::string& text) { text = re->replace_all(text, " "); });
  return Status();
}

Status build_sequence(const Json& spec, std::string_view path, Builder& b) {
  INFERD_ASSIGN_OR_RETURN(const Json* items, json_array(spec, "decoders", path));
  for (size_t i = 0; i < items->size(); ++i)
    INFERD_RETURN_IF_ERROR(add_step((*items)[i], json_path(json_path(path, "decoders"), i), b));
  return Status();
}

struct DecoderRow {
  std::string_view type;
  Status (*build)(const Json& spec, std::string_view path, Builder& b);
};

constexpr DecoderRow kDecoders[] = {
    {"ByteLevel", build_byte_level},
    {"ByteFallback", build_byte_fallback},
    {"Fuse", build_fuse},
    {"Strip", build_strip},
    {"Replace", build_replace},
    {"Metaspace", build_metaspace},
    {"Sequence", build_sequence},
};

Status add_step(const Json& spec, std::string_view path, Builder& b) {
  INFERD_ASSIGN_OR_RETURN(std::string type, json_type(spec, path));
  for (const DecoderRow& row : kDecoders)
    if (row.type == type) return row.build(spec, path, b);
  return unsupported("{}.type \"{}\" is not a supported decoder", path, type);
}

}  // namespace

Result<HfDecoder> HfDecoder::build(const Json& spec, std::string_view path) {
  HfDecoder d;
  if (spec.is_null()) return d;
  Builder b;
  INFERD_RETURN_IF_ERROR(add_step(spec, path, b));
  d.steps_ = std::move(b.steps);
  d.strips_leading_space_ = b.strips_leading_space;
  return d;
}

std::string HfDecoder::piece(std::string_view token_text) const {
  std::string text(token_text);
  for (const Step& s : steps_) s(text);
  return text;
}

}  // namespace inferd::tokenizer

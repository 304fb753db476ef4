#include "tokenizer/hf_normalizer.h"

#include <memory>
#include <vector>

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include "tokenizer/utf8.h"

namespace inferd::tokenizer {
namespace {

using Step = HfNormalizer::Step;

using Normalizer2Getter = const icu::Normalizer2* (*)(UErrorCode&);

Result<Step> unicode_form(Normalizer2Getter getter, std::string_view path) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* norm = getter(err);
  if (U_FAILURE(err) || norm == nullptr)
    return internal_error("{}: ICU normalizer unavailable: {}", path, u_errorName(err));
  return Step([norm](std::string& text) {
    UErrorCode e = U_ZERO_ERROR;
    const icu::UnicodeString in = icu::UnicodeString::fromUTF8(text);
    if (norm->isNormalized(in, e) && U_SUCCESS(e)) return;
    e = U_ZERO_ERROR;
    const icu::UnicodeString out = norm->normalize(in, e);
    if (U_FAILURE(e)) return;  // leaves the text as it was
    text.clear();
    out.toUTF8String(text);
  });
}

bool is_unicode_space(uint32_t cp) {
  return u_isUWhiteSpace(static_cast<UChar32>(cp));
}

Result<Step> build_strip(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(bool left, json_bool_or(spec, "strip_left", path, true));
  INFERD_ASSIGN_OR_RETURN(bool right, json_bool_or(spec, "strip_right", path, true));
  return Step([left, right](std::string& text) {
    size_t begin = 0;
    size_t end = text.size();
    if (left) {
      while (begin < end) {
        size_t pos = begin;
        if (!is_unicode_space(utf8_decode(text, pos))) break;
        begin = pos;
      }
    }
    if (right) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
        size_t pos = start;
        if (!is_unicode_space(utf8_decode(text, pos)) || pos != end) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  });
}

Result<Step> build_lowercase(const Json&, std::string_view) {
  return Step([](std::string& text) {
    icu::UnicodeString s = icu::UnicodeString::fromUTF8(text);
    s.toLower();
    text.clear();
    s.toUTF8String(text);
  });
}

Result<Step> build_replace(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(HfRegex pattern, json_pattern(spec, "pattern", path));
  INFERD_ASSIGN_OR_RETURN(std::string content, json_string(spec, "content", path));
  auto re = std::make_shared<HfRegex>(std::move(pattern));
  return Step([re, content](std::string& text) { text = re->replace_all(text, content); });
}

Result<Step> build_prepend(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(std::string prefix, json_string(spec, "prepend", path));
  return Step([prefix](std::string& text) {
    if (!text.empty()) text.insert(0, prefix);
  });
}

Result<Step> build_sequence(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(const Json* items, json_array(spec, "normalizers", path));
  std::vector<Step> steps;
  for (size_t i = 0; i < items->size(); ++i) {
    INFERD_ASSIGN_OR_RETURN(
        Step s, build_normalizer_step((*items)[i], json_path(json_path(path, "normalizers"), i)));
    steps.push_back(std::move(s));
  }
  return Step([steps = std::move(steps)](std::string& text) {
    for (const Step& s : steps) s(text);
  });
}

struct NormalizerRow {
  std::string_view type;
  Result<Step> (*build)(const Json& spec, std::string_view path);
};

constexpr NormalizerRow kNormalizers[] = {
    {"NFC", [](const Json&,
               std::string_view p) { return unicode_form(&icu::Normalizer2::getNFCInstance, p); }},
    {"NFD", [](const Json&,
               std::string_view p) { return unicode_form(&icu::Normalizer2::getNFDInstance, p); }},
    {"NFKC",
     [](const Json&, std::string_view p) {
       return unicode_form(&icu::Normalizer2::getNFKCInstance, p);
     }},
    {"NFKD",
     [](const Json&, std::string_view p) {
       return unicode_form(&icu::Normalizer2::getNFKDInstance, p);
     }},
    {"Lowercase", build_lowercase},
    {"Strip", build_strip},
    {"Replace", build_replace},
    {"Prepend", build_prepend},
    {"Sequence", build_sequence},
};

}  // namespace

Result<HfNormalizer::Step> build_normalizer_step(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(std::string type, json_type(spec, path));
  for (const NormalizerRow& row : kNormalizers)
    if (row.type == type) return row.build(spec, path);
  return unsupported("{}.type \"{}\" is not a supported normalizer", path, type);
}

Result<HfNormalizer> HfNormalizer::build(const Json& spec, std::string_view path) {
  HfNormalizer n;
  if (spec.is_null()) return n;
  INFERD_ASSIGN_OR_RETURN(n.step_, build_normalizer_step(spec, path));
  return n;
}

}  // namespace inferd::tokenizer

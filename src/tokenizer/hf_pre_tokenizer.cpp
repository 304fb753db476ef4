#include "tokenizer/hf_pre_tokenizer.h"

#include <algorithm>
#include <memory>

#include "tokenizer/byte_level.h"

namespace inferd::tokenizer {
namespace {

using Step = HfPreTokenizer::Step;

// How a Split keeps the pattern's matches (Hugging Face's SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

constexpr struct {
  std::string_view name;
  SplitBehavior behavior;
} kBehaviors[] = {
    {"Removed", SplitBehavior::kRemoved},
    {"Isolated", SplitBehavior::kIsolated},
    {"MergedWithPrevious", SplitBehavior::kMergedWithPrevious},
    {"MergedWithNext", SplitBehavior::kMergedWithNext},
    {"Contiguous", SplitBehavior::kContiguous},
};

struct Part {
  size_t begin;
  size_t end;
  bool is_match;
};

// Splits `word` by the matches of `re`, appending the non-empty results to `out`.
void split_word(const HfRegex& re, SplitBehavior behavior, bool invert, const std::string& word,
                std::vector<std::string>& out) {
  std::vector<Part> parts;
  size_t prev = 0;
  for (const TextSpan& m : re.find_all(word)) {
    if (m.offset > prev) parts.push_back({prev, m.offset, invert});
    parts.push_back({m.offset, m.offset + m.length, !invert});
    prev = m.offset + m.length;
  }
  if (prev < word.size()) parts.push_back({prev, word.size(), invert});

  std::vector<Part> merged;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Part& p : parts)
        if (!p.is_match) merged.push_back(p);
      break;
    case SplitBehavior::kIsolated: merged = parts; break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Part& p : parts) {
        if (p.is_match && !previous_match && !merged.empty()) {
          merged.back().end = p.end;
        } else {
          merged.push_back(p);
        }
        previous_match = p.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (it->is_match && !previous_match && !merged.empty()) {
          merged.back().begin = it->begin;
        } else {
          merged.push_back(*it);
        }
        previous_match = it->is_match;
      }
      std::reverse(merged.begin(), merged.end());
      break;
    case SplitBehavior::kContiguous:
      for (size_t i = 0; i < parts.size(); ++i) {
        if (i > 0 && parts[i].is_match == previous_match) {
          merged.back().end = parts[i].end;
        } else {
          merged.push_back(parts[i]);
        }
        previous_match = parts[i].is_match;
      }
      break;
  }
  for (const Part& p : merged)
    if (p.end > p.begin) out.push_back(word.substr(p.begin, p.end - p.begin));
}

// A step that splits every word by `re`.
Step split_step(std::shared_ptr<const HfRegex> re, SplitBehavior behavior, bool invert) {
  return [re = std::move(re), behavior, invert](std::vector<std::string>& words, bool) {
    std::vector<std::string> out;
    out.reserve(words.size());
    for (const std::string& w : words) split_word(*re, behavior, invert, w, out);
    words.swap(out);
  };
}

Result<Step> regex_split_step(std::string_view pattern, SplitBehavior behavior, bool invert,
                              std::string_view path) {
  auto re = HfRegex::compile(pattern, /*literal=*/false);
  if (!re.ok()) return re.status().with_context(std::string(path));
  return split_step(std::make_shared<const HfRegex>(std::move(re).value()), behavior, invert);
}

Result<Step> build_split(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(HfRegex re, json_pattern(spec, "pattern", path));
  INFERD_ASSIGN_OR_RETURN(std::string name, json_string(spec, "behavior", path));
  INFERD_ASSIGN_OR_RETURN(bool invert, json_bool_or(spec, "invert", path, false));
  for (const auto& b : kBehaviors) {
    if (b.name == name)
      return split_step(std::make_shared<const HfRegex>(std::move(re)), b.behavior, invert);
  }
  return unsupported("{} \"{}\" is not a split behavior", json_path(path, "behavior"), name);
}

// GPT-2's word pattern, which ByteLevel applies when use_regex is set.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

Result<Step> build_byte_level(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(bool add_prefix_space,
                          json_bool_or(spec, "add_prefix_space", path, true));
  INFERD_ASSIGN_OR_RETURN(bool use_regex, json_bool_or(spec, "use_regex", path, true));
  Step split;
  if (use_regex) {
    INFERD_ASSIGN_OR_RETURN(split,
                            regex_split_step(kGpt2Pattern, SplitBehavior::kIsolated, false, path));
  }
  return Step([add_prefix_space, split](std::vector<std::string>& words, bool at_text_start) {
    if (add_prefix_space)
      for (std::string& w : words)
        if (w.front() != ' ') w.insert(0, 1, ' ');
    if (split) split(words, at_text_start);
    std::string mapped;
    for (std::string& w : words) {
      mapped.clear();
      for (char c : w) mapped.append(byte_to_unicode_utf8(static_cast<uint8_t>(c)));
      w.swap(mapped);
    }
  });
}

Result<Step> build_digits(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(bool individual, json_bool_or(spec, "individual_digits", path, false));
  return regex_split_step(
      R"(\p{N})", individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false, path);
}

// How Metaspace marks the start of a word run.
enum class PrependScheme { kAlways, kFirst, kNever };

Result<Step> build_metaspace(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(std::string replacement,
                          json_string_or(spec, "replacement", path, "\xE2\x96\x81"));
  if (replacement.empty())
    return invalid_argument("{} must not be empty", json_path(path, "replacement"));
  PrependScheme scheme = PrependScheme::kAlways;
  if (spec.contains("prepend_scheme")) {
    INFERD_ASSIGN_OR_RETURN(std::string s, json_string(spec, "prepend_scheme", path));
    if (s == "always") {
      scheme = PrependScheme::kAlways;
    } else if (s == "first") {
      scheme = PrependScheme::kFirst;
    } else if (s == "never") {
      scheme = PrependScheme::kNever;
    } else {
      return unsupported("{} \"{}\" is not always, first or never",
                         json_path(path, "prepend_scheme"), s);
    }
  } else {
    INFERD_ASSIGN_OR_RETURN(bool add_prefix, json_bool_or(spec, "add_prefix_space", path, true));
    scheme = add_prefix ? PrependScheme::kAlways : PrependScheme::kNever;
  }
  INFERD_ASSIGN_OR_RETURN(bool split, json_bool_or(spec, "split", path, true));
  INFERD_ASSIGN_OR_RETURN(HfRegex marker, HfRegex::compile(replacement, /*literal=*/true));
  auto re = std::make_shared<const HfRegex>(std::move(marker));
  auto space_re = std::make_shared<const HfRegex>(HfRegex::compile(" ", true).value());
  return Step([=](std::vector<std::string>& words, bool at_text_start) {
    for (size_t i = 0; i < words.size(); ++i) {
      std::string& w = words[i];
      w = space_re->replace_all(w, replacement);
      const bool prepend = scheme == PrependScheme::kAlways ||
                           (scheme == PrependScheme::kFirst && i == 0 && at_text_start);
      if (prepend && w.compare(0, replacement.size(), replacement) != 0) w.insert(0, replacement);
    }
    if (split) split_step(re, SplitBehavior::kMergedWithNext, false)(words, at_text_start);
  });
}

Result<Step> build_whitespace(const Json&, std::string_view path) {
  return regex_split_step(R"(\w+|[^\w\s]+)", SplitBehavior::kRemoved, /*invert=*/true, path);
}

Result<Step> build_whitespace_split(const Json&, std::string_view path) {
  return regex_split_step(R"(\s+)", SplitBehavior::kRemoved, /*invert=*/false, path);
}

Result<Step> build_sequence(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(const Json* items, json_array(spec, "pretokenizers", path));
  std::vector<Step> steps;
  for (size_t i = 0; i < items->size(); ++i) {
    INFERD_ASSIGN_OR_RETURN(
        Step s,
        build_pre_tokenizer_step((*items)[i], json_path(json_path(path, "pretokenizers"), i)));
    steps.push_back(std::move(s));
  }
  return Step([steps = std::move(steps)](std::vector<std::string>& words, bool at_text_start) {
    for (const Step& s : steps) s(words, at_text_start);
  });
}

struct PreTokenizerRow {
  std::string_view type;
  Result<Step> (*build)(const Json& spec, std::string_view path);
};

constexpr PreTokenizerRow kPreTokenizers[] = {
    {"Split", build_split},           {"ByteLevel", build_byte_level},
    {"Digits", build_digits},         {"Metaspace", build_metaspace},
    {"Whitespace", build_whitespace}, {"WhitespaceSplit", build_whitespace_split},
    {"Sequence", build_sequence},
};

}  // namespace

Result<HfPreTokenizer::Step> build_pre_tokenizer_step(const Json& spec, std::string_view path) {
  INFERD_ASSIGN_OR_RETURN(std::string type, json_type(spec, path));
  for (const PreTokenizerRow& row : kPreTokenizers)
    if (row.type == type) return row.build(spec, path);
  return unsupported("{}.type \"{}\" is not a supported pre-tokenizer", path, type);
}

Result<HfPreTokenizer> HfPreTokenizer::build(const Json& spec, std::string_view path) {
  HfPreTokenizer p;
  if (spec.is_null()) return p;
  INFERD_ASSIGN_OR_RETURN(p.step_, build_pre_tokenizer_step(spec, path));
  return p;
}

void HfPreTokenizer::split(std::string_view text, bool at_text_start,
                           std::vector<std::string>& words) const {
  words.clear();
  if (text.empty()) return;
  words.emplace_back(text);
  if (step_) step_(words, at_text_start);
}

}  // namespace inferd::tokenizer

// HfTokenizerConfig: what a Hugging Face model directory says about its tokenizer besides
// tokenizer.json: the chat template and the texts of its special tokens.
//
// Sources, in order of precedence:
//  - chat_template.jinja (the whole file is the default template);
//  - tokenizer_config.json "chat_template": a string, or a list of {"name", "template"} objects
//    (the default template is the one named "default", else the first);
//  - special token texts from tokenizer_config.json ("bos_token", "eos_token", "unk_token",
//    "pad_token": a string or an added-token object {"content": ...}), and for those it lacks,
//    from special_tokens_map.json.
// Every file is optional; a malformed file is an error naming the file and the JSON path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace inferd::tokenizer {

struct HfTokenizerConfig {
  std::string chat_template;  // the default template; "" when the directory has none
  // Every named template of the list form (including the default), in file order.
  std::vector<std::pair<std::string, std::string>> named_chat_templates;
  // Special token texts; "" when absent.
  std::string bos_token;
  std::string eos_token;
  std::string unk_token;
  std::string pad_token;

  // Parses the files' contents; an empty string_view stands for an absent file.
  static Result<HfTokenizerConfig> parse(std::string_view tokenizer_config_json,
                                         std::string_view special_tokens_map_json,
                                         std::string_view chat_template_jinja);
  // Reads tokenizer_config.json, special_tokens_map.json and chat_template.jinja from `dir`.
  static Result<HfTokenizerConfig> read(const std::filesystem::path& dir);
};

// The contents of `path`; an absent file gives "" when `optional`, else a not-found error.
Result<std::string> read_text_file(const std::filesystem::path& path, bool optional);

}  // namespace inferd::tokenizer

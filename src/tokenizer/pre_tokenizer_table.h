// The table of byte-level BPE pre-tokenizers, keyed by tokenizer.ggml.pre. Each entry lists the
// regular expressions (PCRE2 syntax, UTF + Unicode properties) applied in order: every expression
// splits each piece produced by the previous ones into its matches and the text between them
// (Hugging Face's Split pre-tokenizer with "isolated" behaviour), and each piece is then
// segmented on its own. Adding a family is one table line.
#pragma once

#include <string_view>
#include <vector>

namespace inferd::tokenizer {

struct PreTokenizerSpec {
  // Names accepted in tokenizer.ggml.pre, separated by '|'.
  std::string_view names;
  std::vector<std::string_view> regexes;
  // A piece that is itself a vocabulary token is emitted without applying merges.
  bool ignore_merges = false;
  // Defaults that tokenizer.ggml.add_bos_token / add_sep_token override.
  bool add_bos = false;
  bool add_sep = false;
};

// All entries, in table order.
const std::vector<PreTokenizerSpec>& pre_tokenizer_table();
// The entry that lists `name`, or nullptr. An absent tokenizer.ggml.pre means "default".
const PreTokenizerSpec* find_pre_tokenizer(std::string_view name);

}  // namespace inferd::tokenizer

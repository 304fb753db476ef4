#include "tokenizer/hf_tokenizer_config.h"

#include <fstream>

#include "tokenizer/hf_json.h"

namespace inferd::tokenizer {
namespace {

constexpr std::string_view kConfigFile = "tokenizer_config.json";
constexpr std::string_view kSpecialMapFile = "special_tokens_map.json";
constexpr std::string_view kTemplateFile = "chat_template.jinja";

Result<Json> parse_object(std::string_view text, std::string_view file) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument("{} is not valid JSON", file);
  if (!j.is_object()) return invalid_argument("{} must hold a JSON object", file);
  return j;
}

struct SpecialField {
  std::string_view key;
  std::string HfTokenizerConfig::*field;
};
constexpr SpecialField kSpecialFields[] = {
    {"bos_token", &HfTokenizerConfig::bos_token},
    {"eos_token", &HfTokenizerConfig::eos_token},
    {"unk_token", &HfTokenizerConfig::unk_token},
    {"pad_token", &HfTokenizerConfig::pad_token},
};

// Fills the special token texts that `obj` has and `config` still lacks.
Status read_special_texts(const Json& obj, std::string_view file, HfTokenizerConfig& config) {
  for (const SpecialField& f : kSpecialFields) {
    std::string& text = config.*(f.field);
    if (!text.empty() || !obj.contains(f.key)) continue;
    auto v = json_token_text(obj[f.key], f.key);
    if (!v.ok()) return v.status().with_context(std::string(file));
    text = std::move(v).value();
  }
  return Status();
}

Status read_chat_template(const Json& config, HfTokenizerConfig& out) {
  const auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return Status();
  if (it->is_string()) {
    out.chat_template = it->get<std::string>();
    return Status();
  }
  if (!it->is_array())
    return invalid_argument("{}: chat_template must be a string or a list of named templates",
                            kConfigFile);
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& entry = (*it)[i];
    const std::string path = json_path("chat_template", i);
    if (!entry.is_object()) return invalid_argument("{}: {} must be an object", kConfigFile, path);
    auto name = json_string(entry, "name", path);
    if (!name.ok()) return name.status().with_context(std::string(kConfigFile));
    auto text = json_string(entry, "template", path);
    if (!text.ok()) return text.status().with_context(std::string(kConfigFile));
    out.named_chat_templates.emplace_back(std::move(name).value(), std::move(text).value());
  }
  for (const auto& [name, text] : out.named_chat_templates)
    if (name == "default") out.chat_template = text;
  if (out.chat_template.empty() && !out.named_chat_templates.empty())
    out.chat_template = out.named_chat_templates.front().second;
  return Status();
}

}  // namespace

Result<std::string> read_text_file(const std::filesystem::path& path, bool optional) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    if (optional && !std::filesystem::exists(path, ec)) return std::string();
    return not_found("{} is not a readable file", path.string());
  }
  const auto size_bytes = std::filesystem::file_size(path, ec);
  if (ec) return io_error("cannot stat {}: {}", path.string(), ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot open {}", path.string());
  std::string text(static_cast<size_t>(size_bytes), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (static_cast<size_t>(in.gcount()) != text.size())
    return io_error("cannot read {}", path.string());
  return text;
}

Result<HfTokenizerConfig> HfTokenizerConfig::parse(std::string_view tokenizer_config_json,
                                                   std::string_view special_tokens_map_json,
                                                   std::string_view chat_template_jinja) {
  HfTokenizerConfig out;
  if (!tokenizer_config_json.empty()) {
    INFERD_ASSIGN_OR_RETURN(Json config, parse_object(tokenizer_config_json, kConfigFile));
    INFERD_RETURN_IF_ERROR(read_chat_template(config, out));
    INFERD_RETURN_IF_ERROR(read_special_texts(config, kConfigFile, out));
  }
  if (!special_tokens_map_json.empty()) {
    INFERD_ASSIGN_OR_RETURN(Json map, parse_object(special_tokens_map_json, kSpecialMapFile));
    INFERD_RETURN_IF_ERROR(read_special_texts(map, kSpecialMapFile, out));
  }
  if (!chat_template_jinja.empty()) out.chat_template.assign(chat_template_jinja);
  return out;
}

Result<HfTokenizerConfig> HfTokenizerConfig::read(const std::filesystem::path& dir) {
  INFERD_ASSIGN_OR_RETURN(std::string config, read_text_file(dir / kConfigFile, true));
  INFERD_ASSIGN_OR_RETURN(std::string special_map, read_text_file(dir / kSpecialMapFile, true));
  INFERD_ASSIGN_OR_RETURN(std::string jinja, read_text_file(dir / kTemplateFile, true));
  auto parsed = parse(config, special_map, jinja);
  if (!parsed.ok()) return parsed.status().with_context(dir.string());
  return parsed;
}

}  // namespace inferd::tokenizer

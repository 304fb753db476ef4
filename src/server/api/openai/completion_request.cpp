#include "server/api/openai/completion_request.h"

#include <limits>

#include <fmt/format.h>

namespace inferd::server::openai {
namespace {

Status read_prompts(const FieldReader& r, const char* key, std::vector<PromptInput>* out) {
  const Json* v = r.find(key);
  if (!v) return r.error(key, "is required");
  auto tokens_of = [&](const Json& arr, std::vector<TokenId>* ids) -> Status {
    for (const auto& t : arr) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > std::numeric_limits<int32_t>::max())
        return r.error(key, "token arrays must hold non-negative integers");
      ids->push_back(static_cast<TokenId>(t.get<int64_t>()));
    }
    return {};
  };
  if (v->is_string()) {
    out->emplace_back(v->get<std::string>());
    return {};
  }
  if (!v->is_array() || v->empty())
    return r.error(key, "must be a string, an array of strings or tokens, or an array of token arrays");
  if ((*v)[0].is_number()) {
    std::vector<TokenId> ids;
    INFERD_RETURN_IF_ERROR(tokens_of(*v, &ids));
    out->emplace_back(std::move(ids));
    return {};
  }
  if (v->size() > kMaxPrompts) return r.error(key, fmt::format("may hold at most {} inputs", kMaxPrompts));
  for (const auto& item : *v) {
    if (item.is_string()) {
      out->emplace_back(item.get<std::string>());
    } else if (item.is_array() && !item.empty()) {
      std::vector<TokenId> ids;
      INFERD_RETURN_IF_ERROR(tokens_of(item, &ids));
      out->emplace_back(std::move(ids));
    } else {
      return r.error(key, "items must be strings or non-empty token arrays");
    }
  }
  return {};
}

}  // namespace

Result<CompletionRequest> parse_completion_request(const Json& body) {
  CompletionRequest req;
  const FieldReader r(body, "");
  INFERD_RETURN_IF_ERROR(read_generation_fields(body, 0, &req.gen));
  INFERD_RETURN_IF_ERROR(read_prompts(r, "prompt", &req.prompts));
  INFERD_RETURN_IF_ERROR(r.boolean("echo", &req.echo));
  int64_t logprobs = -1;
  INFERD_RETURN_IF_ERROR(r.integer("logprobs", 0, SamplingParams::kMaxTopLogprobs, &logprobs));
  req.logprobs = static_cast<int>(logprobs);
  if (req.logprobs >= 0) {
    req.gen.sampling.logprobs = true;
    req.gen.sampling.num_top_logprobs = req.logprobs;
  }
  if (const Json* suffix = r.find("suffix"); suffix && !(suffix->is_string() && suffix->get<std::string>().empty()))
    return unsupported("'suffix' (fill-in-the-middle) is not supported").with_field("suffix");
  int64_t best_of = req.gen.n;
  INFERD_RETURN_IF_ERROR(r.integer("best_of", 1, kMaxChoices, &best_of));
  if (best_of != req.gen.n) return r.error("best_of", "is supported only when equal to 'n'");
  if (req.gen.max_tokens == 0 && !req.echo) return r.error("max_tokens", "may be 0 only with 'echo'");
  return req;
}

Result<std::vector<TokenId>> prompt_tokens(const Model& model, const PromptInput& input, const char* field) {
  std::vector<TokenId> tokens;
  if (const auto* ids = std::get_if<std::vector<TokenId>>(&input)) {
    for (TokenId t : *ids)
      if (t < 0 || t >= model.vocab_size())
        return invalid_argument("token id {} is outside the vocabulary [0, {})", t, model.vocab_size()).with_field(field);
    tokens = *ids;
  } else {
    tokens = model.tokenize(std::get<std::string>(input), /*add_special=*/true, /*parse_special=*/false);
  }
  if (tokens.empty()) return invalid_argument("{} is empty", field).with_field(field);
  return tokens;
}

Result<EmbeddingRequest> parse_embedding_request(const Json& body) {
  EmbeddingRequest req;
  const FieldReader r(body, "");
  INFERD_RETURN_IF_ERROR(r.string("model", &req.model));
  INFERD_RETURN_IF_ERROR(read_prompts(r, "input", &req.inputs));
  std::string format = "float";
  INFERD_RETURN_IF_ERROR(r.string("encoding_format", &format));
  if (format != "float" && format != "base64") return r.error("encoding_format", "must be \"float\" or \"base64\"");
  req.base64 = format == "base64";
  INFERD_RETURN_IF_ERROR(r.integer("dimensions", 1, 1 << 20, &req.dimensions));
  return req;
}

}  // namespace inferd::server::openai

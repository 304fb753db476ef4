#include "server/api/openai/generation_fields.h"

#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace inferd::server::openai {
namespace {

Status read_stop(const FieldReader& r, std::vector<std::string>* out) {
  const Json* v = r.find("stop");
  if (!v) return {};
  if (v->is_string()) {
    if (!v->get<std::string>().empty()) out->push_back(v->get<std::string>());
    return {};
  }
  if (!v->is_array()) return r.error("stop", "must be a string or an array of strings");
  if (v->size() > kMaxStopStrings) return r.error("stop", fmt::format("may hold at most {} strings", kMaxStopStrings));
  for (const auto& s : *v) {
    if (!s.is_string()) return r.error("stop", "must hold only strings");
    if (!s.get<std::string>().empty()) out->push_back(s.get<std::string>());
  }
  return {};
}

Status read_logit_bias(const FieldReader& r, SamplingParams* p) {
  const Json* v = r.find("logit_bias");
  if (!v) return {};
  if (!v->is_object()) return r.error("logit_bias", "must be an object mapping token ids to biases");
  for (const auto& [key, bias] : v->items()) {
    int64_t id = -1;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
    if (ec != std::errc() || end != key.data() + key.size() || id < 0 || id > std::numeric_limits<int32_t>::max())
      return r.error("logit_bias", fmt::format("has key \"{}\", which is not a token id", key));
    if (!bias.is_number()) return r.error("logit_bias", fmt::format("value for token {} must be a number", id));
    p->logit_bias.emplace_back(static_cast<TokenId>(id), bias.get<float>());
  }
  return {};
}

}  // namespace

Status read_generation_fields(const Json& body, int64_t min_max_tokens, GenerationFields* out) {
  const FieldReader r(body, "");
  INFERD_RETURN_IF_ERROR(r.string("model", &out->model));
  SamplingParams& p = out->sampling;
  INFERD_RETURN_IF_ERROR(r.number("temperature", 0.0, 100.0, &p.temperature));
  INFERD_RETURN_IF_ERROR(r.number("top_p", 0.0, 1.0, &p.top_p));
  if (r.find("top_p") && p.top_p == 0.0f) p.top_p = 1e-6f;  // 0 means "only the top token"
  int64_t top_k = 0;
  INFERD_RETURN_IF_ERROR(r.integer("top_k", -1, std::numeric_limits<int32_t>::max(), &top_k));
  p.top_k = top_k < 0 ? 0 : static_cast<int32_t>(top_k);  // -1 means off, as vLLM clients send
  INFERD_RETURN_IF_ERROR(r.number("min_p", 0.0, 1.0, &p.min_p));
  INFERD_RETURN_IF_ERROR(r.number("presence_penalty", -2.0, 2.0, &p.presence_penalty));
  INFERD_RETURN_IF_ERROR(r.number("frequency_penalty", -2.0, 2.0, &p.frequency_penalty));
  INFERD_RETURN_IF_ERROR(r.number("repetition_penalty", 0.0, 100.0, &p.repetition_penalty));
  if (r.find("repetition_penalty") && p.repetition_penalty == 0.0f)
    return r.error("repetition_penalty", "must be greater than 0");
  INFERD_RETURN_IF_ERROR(read_logit_bias(r, &p));
  if (const Json* seed = r.find("seed")) {
    if (!seed->is_number_integer()) return r.error("seed", "must be an integer");
    p.seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : static_cast<uint64_t>(seed->get<int64_t>());
  }
  int64_t max_tokens = -1;
  const char* length_key = r.find("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  INFERD_RETURN_IF_ERROR(r.integer(length_key, min_max_tokens, std::numeric_limits<int32_t>::max(), &max_tokens));
  if (r.find(length_key)) out->max_tokens = max_tokens;
  int64_t n = 1;
  INFERD_RETURN_IF_ERROR(r.integer("n", 1, kMaxChoices, &n));
  out->n = static_cast<int>(n);
  INFERD_RETURN_IF_ERROR(read_stop(r, &out->stop));
  INFERD_RETURN_IF_ERROR(r.boolean("stream", &out->stream));
  if (const Json* so = r.find("stream_options")) {
    if (!so->is_object()) return r.error("stream_options", "must be an object");
    INFERD_RETURN_IF_ERROR(FieldReader(*so, "stream_options").boolean("include_usage", &out->include_usage));
  }
  INFERD_RETURN_IF_ERROR(r.string("user", &out->user));
  return {};
}

}  // namespace inferd::server::openai

// Request fields shared by /v1/chat/completions and /v1/completions: the model, sampling
// parameters, length, stop strings, n and streaming options, validated with errors that name
// the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inferd/sampling_params.h"
#include "server/api/json_body.h"

namespace inferd::server::openai {

struct GenerationFields {
  std::string model;                  // empty = the server's default model
  SamplingParams sampling;
  std::optional<int64_t> max_tokens;  // absent = the endpoint's default
  int n = 1;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  std::string user;
};

constexpr int kMaxChoices = 16;
constexpr int kMaxStopStrings = 16;

// `min_max_tokens`: 1 for chat, 0 for completions (echo scoring asks for no new tokens).
Status read_generation_fields(const Json& body, int64_t min_max_tokens, GenerationFields* out);

}  // namespace inferd::server::openai

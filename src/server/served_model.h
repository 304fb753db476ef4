// ServedModel: one model as the server offers it: the loaded weights and tokenizer, its engine
// loop, its chat template and the names clients may call it by. Immutable after load (the
// engine loop is internally synchronised); shared by every request.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "chat/tool_call_format.h"
#include "inferd/engine.h"
#include "inferd/engine_loop.h"

namespace inferd::server {

class ModelTelemetry;
class Telemetry;

struct ServedModelOptions {
  std::string path;
  std::string id;                    // empty = default_model_id(path)
  std::vector<std::string> aliases;  // other names accepted in "model"
  bool generates = true;             // false: an embedding model (chat and completions refused)
  EngineOptions engine;
  std::string chat_template_file;  // overrides the model's template (a Jinja file)
  std::string output_format;       // tool-call/reasoning syntax name; empty = from the template
  bool parse_reasoning = true;     // <think> blocks become reasoning_content
  // Request fields applied when a request leaves them out (e.g. {"temperature": 0.2}); an object
  // of OpenAI request fields, or null.
  nlohmann::ordered_json request_defaults;
  std::string system_prompt;  // chat: prepended as a system message when a request has none
};

// The id a model is served under when none is given: a GGUF file's name without its extension,
// a model directory's name.
std::string default_model_id(const std::string& path);

class ServedModel {
 public:
  static Result<std::unique_ptr<ServedModel>> load(const ServedModelOptions& options);

  const std::string& id() const { return id_; }
  const std::vector<std::string>& aliases() const { return aliases_; }
  // Whether chat and text completions may use it (an embedding model answers embeddings only).
  bool generates() const { return generates_; }
  bool answers_to(std::string_view name) const;
  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& model_ptr() const { return model_; }
  EngineLoop& engine() const { return *engine_; }
  const chat::ChatTemplate& chat_template() const { return *template_; }
  bool has_own_template() const { return has_own_template_; }
  chat::OutputFormat output_format() const { return output_format_; }
  bool parse_reasoning() const { return parse_reasoning_; }
  int64_t created_unix() const { return created_; }
  const nlohmann::ordered_json& request_defaults() const { return request_defaults_; }
  const std::string& system_prompt() const { return system_prompt_; }
  // The engine's queue is full: a new request would be refused.
  bool overloaded() const { return engine_->stats().waiting >= max_waiting_; }

  // The model's metric series and span export; null until attach_telemetry().
  ModelTelemetry* telemetry() const { return model_telemetry_; }
  // Call before the model is published to requests.
  void attach_telemetry(std::shared_ptr<Telemetry> telemetry);

  // The text of special tokens templates refer to (empty when the vocabulary has none).
  const std::string& bos_text() const { return bos_text_; }
  const std::string& eos_text() const { return eos_text_; }

 private:
  ServedModel() = default;
  Status load_template(const ServedModelOptions& options);
  std::string id_;
  std::vector<std::string> aliases_;
  bool generates_ = true;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<EngineLoop> engine_;
  std::unique_ptr<chat::ChatTemplate> template_;
  bool has_own_template_ = false;
  chat::OutputFormat output_format_ = chat::OutputFormat::kGeneric;
  bool parse_reasoning_ = true;
  int64_t created_ = 0;
  nlohmann::ordered_json request_defaults_;
  std::string system_prompt_;
  int max_waiting_ = 0;
  std::string bos_text_, eos_text_;
  std::shared_ptr<Telemetry> telemetry_;
  ModelTelemetry* model_telemetry_ = nullptr;  // owned by telemetry_
};

}  // namespace inferd::server

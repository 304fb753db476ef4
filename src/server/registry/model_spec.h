// ModelSpec: one model the server may serve, as configured: where its file is, the names clients
// use, how it is loaded (engine options, template) and how the registry manages it (keep-alive,
// pinning, preloading, fallbacks). Plain data; validated by ModelRegistry::add().
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/served_model.h"

namespace inferd::server {

// What a model is for. Chat and completion models answer every generation endpoint; embedding
// models answer only /v1/embeddings (and tokenize).
enum class ModelKind { kChat, kCompletion, kEmbedding };

const char* model_kind_name(ModelKind kind);  // "chat", "completion", "embedding"
std::optional<ModelKind> model_kind_from_name(std::string_view name);

struct ModelSpec {
  // id, path, aliases, engine options (context, concurrent sequences, KV budget, threads),
  // chat-template override, default request fields and system prompt.
  ServedModelOptions load;
  ModelKind kind = ModelKind::kChat;
  // Idle time after which the model is unloaded; 0 = kept until evicted or unloaded.
  std::chrono::seconds keep_alive{0};
  bool pinned = false;   // never evicted for another model (an explicit unload still works)
  bool preload = false;  // loaded when the server starts instead of on first request
  // Models (ids or aliases) tried in order when this one cannot be loaded or is overloaded.
  std::vector<std::string> fallbacks;

  const std::string& id() const { return load.id; }
};

}  // namespace inferd::server

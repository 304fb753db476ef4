// Reading and checking a ServeConfig: the YAML file, then the INFERD_* environment (the command
// line comes last, applied by the app from the same field table). Every error names the field
// it is about by its path, e.g. "models[2].context: expected an integer".
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/config/serve_config.h"
#include "server/registry/registry_config.h"

namespace inferd::server {

// Reads YAML `text` over `config` (fields it leaves out keep their values). Relative model,
// chat-template and models_dir paths are resolved against `base_dir` (empty = as given).
// Errors: YAML syntax (with line and column), unknown fields, values of the wrong type or range.
Status read_config_yaml(std::string_view text, const std::string& base_dir, ServeConfig* config);
// Reads the file at `path` (relative paths inside it are relative to its directory).
Status read_config_file(const std::string& path, ServeConfig* config);

// Applies every INFERD_* variable of the field table that `get_env` returns non-null for.
// Errors name the variable: "INFERD_PORT: expected an integer".
Status apply_environment(ServeConfig* config,
                         const std::function<const char*(const char*)>& get_env);

struct ConfigReport {
  std::vector<std::string> errors;    // the configuration cannot be served
  std::vector<std::string> warnings;  // it can, but something will fail later (e.g. a missing file)
  bool ok() const { return errors.empty(); }
};

// Checks what the types alone do not: required and unique names, models and fallbacks that
// services and the default refer to, kinds and tool formats, files that do not exist.
ConfigReport check_config(const ServeConfig& config);

// Whether the configuration serves through the registry (models configured or a models_dir)
// rather than the single --model.
bool uses_registry(const ServeConfig& config);

// The registry's models (configured ones, then GGUF files of models_dir not configured),
// services, default model and budget. REQUIRES: check_config(config).ok().
Result<RegistryConfig> make_registry_config(const ServeConfig& config);

}  // namespace inferd::server

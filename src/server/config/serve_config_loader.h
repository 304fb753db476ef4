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
#include "server/audit/audit_log.h"
#include "server/auth/access_control.h"
#include "server/http/tls_options.h"
#include "server/registry/registry_config.h"
#include "server/sessions/session_options.h"

namespace inferd::server {

// Reads YAML `text` over `config` (fields it leaves out keep their values). Relative model,
// chat-template and models_dir paths are resolved against `base_dir` (empty = as given).
// Errors: YAML syntax (with line and column), unknown fields, values of the wrong type or range.
Status read_config_yaml(std::string_view text, const std::string& base_dir, ServeConfig* config);
// Reads the file at `path` (relative paths inside it are relative to its directory).
Status read_config_file(const std::string& path, ServeConfig* config);

// Applies every INFERD_* variable of the field table that `get_env` returns non-null for, then
// the variables of configured entries: INFERD_MODELS_<ID>_<FIELD> and INFERD_SERVICES_<NAME>_<FIELD>
// (the id or name and the field's path upper-cased, other characters than letters and digits as
// '_': INFERD_MODELS_GENERAL_DEFAULTS_TOP_K). Errors name the variable:
// "INFERD_PORT: expected an integer".
Status apply_environment(ServeConfig* config,
                         const std::function<const char*(const char*)>& get_env);

// Applies one "PATH=VALUE" assignment (the --set flag): PATH is a top-level field's path
// ("server.port"), "models.<id>.<field>" or "services.<name>.<field>" of a configured entry.
// Lists are comma-separated. Errors: no such field or entry, a malformed value.
Status apply_assignment(ServeConfig* config, std::string_view assignment);

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

// Whether requests need credentials: auth.required, a key store or configured keys.
bool access_control_enabled(const ServeConfig& config);
// The access control's options: configured keys as records, the key store opened (errors: the
// store cannot be opened, named as auth.keys_store). REQUIRES: check_config(config).ok().
Result<auth::AccessOptions> make_access_options(const ServeConfig& config);
// The session service's options (sessions.*). REQUIRES: check_config(config).ok().
sessions::SessionOptions make_session_options(const ServeConfig& config);
// The TLS listener's options (tls.*; no certificate = plain HTTP): --tls-cert/--tls-key pairs
// when given, else tls.certificates. REQUIRES (to be usable): check_config(config).ok().
TlsOptions make_tls_options(const ServeConfig& config);
// The audit log's options (audit.*; path empty = off). REQUIRES: check_config(config).ok().
AuditLogOptions make_audit_options(const ServeConfig& config);
// The engine options every model gets from the server settings and its own (KV type, idle KV
// persistence into kv_dir/<id>). REQUIRES: check_config(config).ok().
void apply_kv_settings(const ServeConfig& config, const std::string& model_id, const std::string& kv_type,
                       EngineOptions* engine);

}  // namespace inferd::server

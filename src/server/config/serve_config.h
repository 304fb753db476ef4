// ServeConfig: everything `inferd serve` is configured with, as read from the YAML file, the
// INFERD_* environment variables and the command line (in that order, each overriding the one
// before). The fields and their names in each source are listed once, in config_fields.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/registry/service_table.h"

namespace inferd::server {

struct ServerSettings {
  std::string host = "127.0.0.1";
  int64_t port = 8080;
  int64_t io_threads = 2;
  std::string api_prefix = "/api/v1";
  int64_t max_body_mb = 32;
  int64_t max_connections = 1024;
  int64_t shutdown_timeout_s = 10;
  std::string kv_dir;
  bool kv_restore = false;
  double kv_persist_idle_s = 0;  // > 0: conversations are saved into kv_dir after this idle time
  int64_t memory_budget_mb = 0;  // 0 = no limit
  std::string models_dir;        // every GGUF file found there is served too
  std::string default_model;     // id or alias; empty = the first model
  std::vector<std::string> cors_origins;  // browser origins allowed by CORS ("*" = any)
};

// One certificate/key pair of the TLS listener (tls.certificates[i] in YAML).
struct TlsCertificateConfig {
  std::string cert;  // PEM certificate (and chain)
  std::string key;   // PEM private key
};

// HTTPS (TlsOptions once checked); on when a certificate is given.
struct TlsSettings {
  std::vector<TlsCertificateConfig> certificates;
  // From --tls-cert / --tls-key (and INFERD_TLS_CERT / INFERD_TLS_KEY), paired in order; when
  // given they replace `certificates`.
  std::vector<std::string> cert_files;
  std::vector<std::string> key_files;
  std::string client_ca;              // CA file client certificates are verified against
  std::string client_certs = "none";  // none | optional | required
  int64_t redirect_port = 0;          // plain-HTTP port redirecting to https; 0 = none
  int64_t hsts_max_age_s = 365 * 24 * 3600;  // 0 = no Strict-Transport-Security
};

// Server-side sessions (sessions::SessionOptions once checked).
struct SessionSettings {
  bool enabled = true;
  std::string store;  // memory | sqlite:PATH | redis://...; empty = the default SQLite file
  int64_t ttl_s = 24 * 3600;
  int64_t max_ttl_s = 30 * 24 * 3600;
  int64_t sweep_interval_s = 60;
  int64_t max_messages = 100'000;
  std::vector<std::string> prices;  // MODEL=PROMPT,COMPLETION[,CACHED], USD per million tokens
  std::string summary_model;        // "" = long histories are trimmed, not summarised
  int64_t summary_max_tokens = 256;
};

// The audit log (AuditLogOptions once checked); off while path is empty.
struct AuditSettings {
  std::string path;
  int64_t max_mb = 64;
  int64_t files = 20;
  std::vector<std::string> bodies;         // services whose request bodies are logged, masked
  std::vector<std::string> mask_patterns;  // NAME=REGEX masked besides the built-in kinds
};

// Access control (auth::AccessControl once checked): on when `required` is set or any credential
// is configured (keys in a store or in api_keys).
struct AuthSettings {
  bool required = false;   // refuse requests without a credential even when no key is configured
  std::string keys_store;  // sqlite:PATH | redis://... | memory; empty = keys only from api_keys
  std::vector<std::string> public_paths = {"/health"};
  std::string rate_limit_store;  // redis://... shares rate limits between servers; empty = this process
  std::vector<std::string> client_cert_services;  // SERVICE=SUBJECT of verified TLS client certificates
  // Bearer JWTs of one OIDC issuer (auth::OidcOptions); off while issuer is empty.
  std::string oidc_issuer, oidc_jwks_uri, oidc_service_claim = "azp", oidc_scope_claim = "scope", oidc_scope_prefix;
  std::vector<std::string> oidc_audiences;
  std::vector<std::string> oidc_services;  // CLAIM_VALUE=SERVICE; empty = the claim value is the service
};

// A key listed in the configuration file (api_keys[i]): its hash, never the key.
struct ApiKeyConfig {
  std::string id;      // the key's public id (the 12 characters after its prefix)
  std::string prefix;  // e.g. "vista_"
  std::string hash;    // sha256:<hex>, printed by `inferd keys hash KEY`
  std::string service;
  std::string name;
  std::vector<std::string> scopes = {"inference", "sessions"};
  std::string expires_at;  // ISO-8601; empty = never
  int64_t requests_per_minute = 0, tokens_per_minute = 0, concurrent = 0;
};

struct TelemetrySettings {
  std::string otlp_endpoint;
  bool access_log = true;
};

// One model as configured (models[i] in YAML); to_model_spec() turns it into a ModelSpec.
struct ModelConfig {
  std::string id;
  std::string path;
  std::vector<std::string> aliases;
  std::string kind = "chat";
  int64_t context = 0;         // positions per request; 0 = the model's, at most 4096
  int64_t max_concurrent = 4;  // sequences decoded together
  int64_t max_queue = 256;     // requests waiting beyond those; more are refused (or fall back)
  int64_t kv_budget_mb = 0;    // 0 = max_concurrent full contexts
  std::string kv_type = "f16";  // f16 or q8_0
  int64_t threads = 0;         // 0 = one per core
  std::string chat_template;   // a Jinja file overriding the model's template
  std::string tool_format;     // tool-call syntax; empty = detected from the template
  bool reasoning = true;       // <think> blocks become reasoning_content
  std::string system_prompt;
  int64_t keep_alive_s = 0;  // 0 = no expiry
  bool pinned = false;
  bool preload = false;
  std::vector<std::string> fallbacks;
  // Default sampling parameters, applied when a request leaves them out.
  std::optional<double> temperature, top_p, min_p, presence_penalty, frequency_penalty,
      repetition_penalty;
  std::optional<int64_t> top_k, max_tokens;
};

// The single-model mode's settings (command line and environment only): `inferd serve --model`.
struct SingleModelSettings {
  std::string path;
  std::string id;
  std::vector<std::string> aliases;
  std::string chat_template_file;
  std::string tool_format;
  bool reasoning = true;
  int64_t threads = 0;
  int64_t ctx_size = 0;
  int64_t parallel = 4;
  int64_t kv_budget_mb = 0;
  std::string kv_type = "f16";
};

struct ServeConfig {
  ServerSettings server;
  TlsSettings tls;
  TelemetrySettings telemetry;
  SessionSettings sessions;
  AuditSettings audit;
  AuthSettings auth;
  SingleModelSettings single;
  std::vector<ModelConfig> models;
  std::vector<ServiceSpec> services;
  std::vector<ApiKeyConfig> api_keys;
};

}  // namespace inferd::server

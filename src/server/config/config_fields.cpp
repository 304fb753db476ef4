#include "server/config/config_field.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace inferd::server {
namespace {

using S = ServeConfig;
using M = ModelConfig;
constexpr int64_t kMaxPort = 65535;
constexpr int64_t kMaxLimit = int64_t{1} << 40;

// clang-format off
const ConfigField<S> kServeFields[] = {
  {"server.host", "INFERD_HOST", "--host", "Address to listen on",
   [](S& c) -> FieldRef { return &c.server.host; }},
  {"server.port", "INFERD_PORT", "--port", "Port to listen on (0 = any free port)",
   [](S& c) -> FieldRef { return &c.server.port; }, 0, kMaxPort},
  {"server.io_threads", "INFERD_IO_THREADS", "--io-threads", "Threads that accept and parse requests",
   [](S& c) -> FieldRef { return &c.server.io_threads; }, 1, 256},
  {"server.api_prefix", "INFERD_API_PREFIX", "--api-prefix", "Second prefix of the /v1 routes (empty = none)",
   [](S& c) -> FieldRef { return &c.server.api_prefix; }},
  {"server.max_body_mb", "INFERD_MAX_BODY_MB", "--max-body-mb", "Largest request body in MiB (413 beyond)",
   [](S& c) -> FieldRef { return &c.server.max_body_mb; }, 1, 4096},
  {"server.max_connections", "INFERD_MAX_CONNECTIONS", "--max-connections", "Open connections at most (503 beyond)",
   [](S& c) -> FieldRef { return &c.server.max_connections; }, 1, 1 << 20},
  {"server.shutdown_timeout_s", "INFERD_SHUTDOWN_TIMEOUT", "--shutdown-timeout",
   "Seconds in-flight requests get on SIGTERM/SIGINT",
   [](S& c) -> FieldRef { return &c.server.shutdown_timeout_s; }, 0, 3600},
  {"server.kv_dir", "INFERD_KV_DIR", "--kv-dir",
   "Directory of saved KV prefixes (enables /v1/kv/save, restore, list, erase)",
   [](S& c) -> FieldRef { return &c.server.kv_dir; }},
  {"server.kv_restore", "INFERD_KV_RESTORE", "--kv-restore",
   "At start, restore every saved KV prefix of the model from kv_dir (single-model mode)",
   [](S& c) -> FieldRef { return &c.server.kv_restore; }},
  {"server.kv_persist_idle_s", "INFERD_KV_PERSIST_IDLE", "--kv-persist-idle",
   "Save the KV prefixes of recent conversations (128+ tokens) into kv_dir after this many idle seconds and at "
   "shutdown (0 = off; kv_restore loads them at the next start)",
   [](S& c) -> FieldRef { return &c.server.kv_persist_idle_s; }},
  {"server.memory_budget_mb", "INFERD_MEMORY_BUDGET_MB", "--memory-budget-mb",
   "Weights + KV cache of all loaded models, MiB; idle models are unloaded to stay under it (0 = no limit)",
   [](S& c) -> FieldRef { return &c.server.memory_budget_mb; }, 0, int64_t{1} << 30},
  {"server.models_dir", "INFERD_MODELS_DIR", "--models-dir",
   "Directory scanned for GGUF files and Hugging Face / MLX model directories; each is served (loaded on first "
   "use) under its name",
   [](S& c) -> FieldRef { return &c.server.models_dir; }},
  {"server.default_model", "INFERD_DEFAULT_MODEL", "--default-model",
   "Model of requests that name none and whose service has no default (default: the first model)",
   [](S& c) -> FieldRef { return &c.server.default_model; }},
  {"server.cors_origins", "INFERD_CORS_ORIGINS", "--cors-origin",
   "Browser origins allowed to call the API, e.g. https://app.example.com ('*' = any; repeatable; empty = no CORS "
   "headers)",
   [](S& c) -> FieldRef { return &c.server.cors_origins; }},
  {"tls.client_ca", "INFERD_TLS_CLIENT_CA", "--tls-client-ca",
   "CA certificates (PEM) client certificates are verified against (mutual TLS)",
   [](S& c) -> FieldRef { return &c.tls.client_ca; }},
  {"tls.client_certs", "INFERD_TLS_CLIENT_CERTS", "--tls-client-certs",
   "Client certificates: none, optional (one that is sent must verify) or required",
   [](S& c) -> FieldRef { return &c.tls.client_certs; }},
  {"tls.redirect_port", "INFERD_TLS_REDIRECT_PORT", "--tls-redirect-port",
   "Plain-HTTP port that redirects every request to https (0 = none)",
   [](S& c) -> FieldRef { return &c.tls.redirect_port; }, 0, kMaxPort},
  {"tls.hsts_max_age_s", "INFERD_HSTS_MAX_AGE", "--hsts-max-age",
   "Strict-Transport-Security max-age of HTTPS responses, seconds (0 = none)",
   [](S& c) -> FieldRef { return &c.tls.hsts_max_age_s; }, 0, int64_t{1} << 40},
  {nullptr, "INFERD_TLS_CERT", "--tls-cert",
   "Certificate (PEM, chain allowed) to serve HTTPS with (repeatable, paired in order with --tls-key; replaces "
   "tls.certificates)",
   [](S& c) -> FieldRef { return &c.tls.cert_files; }},
  {nullptr, "INFERD_TLS_KEY", "--tls-key", "Private key (PEM) of the --tls-cert of the same position",
   [](S& c) -> FieldRef { return &c.tls.key_files; }},
  {"telemetry.otlp_endpoint", "INFERD_OTLP_ENDPOINT", "--otlp-endpoint",
   "Export traces over OTLP/HTTP (JSON) to this collector, e.g. http://127.0.0.1:4318 (plain http only; "
   "/v1/traces is appended)",
   [](S& c) -> FieldRef { return &c.telemetry.otlp_endpoint; }},
  {"telemetry.access_log", "INFERD_ACCESS_LOG", "--no-access-log", "Log one line per request",
   [](S& c) -> FieldRef { return &c.telemetry.access_log; }},
  {"sessions.enabled", "INFERD_SESSIONS", "--no-sessions", "Keep conversations server-side (the session API)",
   [](S& c) -> FieldRef { return &c.sessions.enabled; }},
  {"sessions.store", "INFERD_SESSION_STORE", "--session-store",
   "Where sessions live: memory, sqlite:PATH, redis://[:PASSWORD@]HOST[:PORT][/DB] or "
   "redis+cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...] (default: "
   "sqlite:$XDG_STATE_HOME/inferd/sessions.db, else ~/.local/state/inferd/sessions.db)",
   [](S& c) -> FieldRef { return &c.sessions.store; }},
  {"sessions.ttl_s", "INFERD_SESSION_TTL", "--session-ttl", "Lifetime of a session, seconds, when its creator names none",
   [](S& c) -> FieldRef { return &c.sessions.ttl_s; }, 1, int64_t{1} << 40},
  {"sessions.max_ttl_s", "INFERD_SESSION_MAX_TTL", "--session-max-ttl",
   "Longest session lifetime a client may ask for, seconds",
   [](S& c) -> FieldRef { return &c.sessions.max_ttl_s; }, 1, int64_t{1} << 40},
  {"sessions.sweep_interval_s", "INFERD_SESSION_SWEEP_INTERVAL", "--session-sweep-interval",
   "Seconds between background removals of expired sessions (0 = only on read)",
   [](S& c) -> FieldRef { return &c.sessions.sweep_interval_s; }, 0, int64_t{1} << 30},
  {"sessions.max_messages", "INFERD_SESSION_MAX_MESSAGES", "--session-max-messages", "Messages a session keeps at most",
   [](S& c) -> FieldRef { return &c.sessions.max_messages; }, 2, 100'000'000},
  {"sessions.prices", "INFERD_SESSION_PRICES", "--session-price",
   "Prices for session cost estimates: MODEL=PROMPT,COMPLETION[,CACHED] in USD per million tokens (repeatable)",
   [](S& c) -> FieldRef { return &c.sessions.prices; }},
  {"sessions.summary_model", "INFERD_SESSION_SUMMARY_MODEL", "--session-summary-model",
   "Model (id or alias) that summarises the oldest turns of a session that no longer fits the context (\"\" = drop them)",
   [](S& c) -> FieldRef { return &c.sessions.summary_model; }},
  {"sessions.summary_max_tokens", "INFERD_SESSION_SUMMARY_MAX_TOKENS", "--session-summary-max-tokens",
   "Length limit of one session summary, tokens",
   [](S& c) -> FieldRef { return &c.sessions.summary_max_tokens; }, 16, 8192},
  {"audit.path", "INFERD_AUDIT_LOG", "--audit-log",
   "Append one JSON line per request (service, key id, model, tokens, status, latency, client) to this file, "
   "rotated by size",
   [](S& c) -> FieldRef { return &c.audit.path; }},
  {"audit.max_mb", "INFERD_AUDIT_MAX_MB", "--audit-max-mb", "Size at which the audit log is rotated, MiB",
   [](S& c) -> FieldRef { return &c.audit.max_mb; }, 1, int64_t{1} << 20},
  {"audit.files", "INFERD_AUDIT_FILES", "--audit-files", "Rotated audit files kept",
   [](S& c) -> FieldRef { return &c.audit.files; }, 1, 200000},
  {"audit.bodies", "INFERD_AUDIT_BODIES", "--audit-bodies",
   "Services whose request bodies are recorded too, PII-masked ('*' = every service, 'default' = callers "
   "without one)",
   [](S& c) -> FieldRef { return &c.audit.bodies; }},
  {"audit.mask_patterns", "INFERD_AUDIT_MASK_PATTERNS", "--audit-mask-pattern",
   "Patterns masked in recorded bodies besides the built-in kinds, NAME=REGEX (shown as [NAME])",
   [](S& c) -> FieldRef { return &c.audit.mask_patterns; }},
  {"auth.required", "INFERD_AUTH_REQUIRED", "--auth-required",
   "Require a credential on every path but auth.public_paths even when no key is configured (access control "
   "is on anyway once auth.keys_store or api_keys are set)",
   [](S& c) -> FieldRef { return &c.auth.required; }},
  {"auth.keys_store", "INFERD_KEYS_STORE", "--keys-store",
   "Where API keys made with `inferd keys` and /v1/keys live: sqlite:PATH, redis://HOST:PORT/DB, "
   "redis+cluster://HOST:PORT[,HOST:PORT...] or memory",
   [](S& c) -> FieldRef { return &c.auth.keys_store; }},
  {"auth.public_paths", "INFERD_PUBLIC_PATHS", "--public-path",
   "Paths answered without a credential (exact paths)",
   [](S& c) -> FieldRef { return &c.auth.public_paths; }},
  {"auth.rate_limit_store", "INFERD_RATE_LIMIT_STORE", "--rate-limit-store",
   "redis://HOST:PORT/DB or redis+cluster://HOST:PORT[,HOST:PORT...] to share rate limits between "
   "servers (empty = each server counts alone)",
   [](S& c) -> FieldRef { return &c.auth.rate_limit_store; }},
  {"auth.client_cert_services", "INFERD_CLIENT_CERT_SERVICES", "--client-cert-service",
   "SERVICE=SUBJECT: a verified TLS client certificate with this subject (RFC 2253, e.g. CN=vista-backend,O=Example) "
   "acts for SERVICE with the inference and sessions scopes (needs tls.client_ca)",
   [](S& c) -> FieldRef { return &c.auth.client_cert_services; }},
  {"auth.oidc.issuer", "INFERD_OIDC_ISSUER", "--oidc-issuer",
   "Accept bearer JWTs of this OpenID Connect issuer (its discovery document names the JWKS; empty = off)",
   [](S& c) -> FieldRef { return &c.auth.oidc_issuer; }},
  {"auth.oidc.audiences", "INFERD_OIDC_AUDIENCES", "--oidc-audience", "A token's aud must contain one of these",
   [](S& c) -> FieldRef { return &c.auth.oidc_audiences; }},
  {"auth.oidc.jwks_uri", "INFERD_OIDC_JWKS_URI", "--oidc-jwks-uri", "The issuer's JWKS URL, skipping discovery",
   [](S& c) -> FieldRef { return &c.auth.oidc_jwks_uri; }},
  {"auth.oidc.service_claim", "INFERD_OIDC_SERVICE_CLAIM", "--oidc-service-claim",
   "The claim naming the caller's service", [](S& c) -> FieldRef { return &c.auth.oidc_service_claim; }},
  {"auth.oidc.services", "INFERD_OIDC_SERVICES", "--oidc-service",
   "CLAIM_VALUE=SERVICE mappings of the service claim (empty = the claim value is the service)",
   [](S& c) -> FieldRef { return &c.auth.oidc_services; }},
  {"auth.oidc.scope_claim", "INFERD_OIDC_SCOPE_CLAIM", "--oidc-scope-claim",
   "The claim holding the scopes (a space-separated string or an array)",
   [](S& c) -> FieldRef { return &c.auth.oidc_scope_claim; }},
  {"auth.oidc.scope_prefix", "INFERD_OIDC_SCOPE_PREFIX", "--oidc-scope-prefix",
   "Scopes count only with this prefix, e.g. inferd: (inferd:inference grants inference)",
   [](S& c) -> FieldRef { return &c.auth.oidc_scope_prefix; }},
  // Single-model mode: command line and environment only.
  {nullptr, "INFERD_MODEL", "-m,--model",
   "GGUF model to serve alone (default without a config: a built-in random-weight demo model)",
   [](S& c) -> FieldRef { return &c.single.path; }},
  {nullptr, "INFERD_MODEL_ID", "--model-id", "Name clients use for --model (default: the file name)",
   [](S& c) -> FieldRef { return &c.single.id; }},
  {nullptr, "INFERD_ALIAS", "--alias", "Another name for --model (repeatable; comma-separated in the environment)",
   [](S& c) -> FieldRef { return &c.single.aliases; }},
  {nullptr, "INFERD_CHAT_TEMPLATE_FILE", "--chat-template-file", "Jinja chat template to use instead of the model's",
   [](S& c) -> FieldRef { return &c.single.chat_template_file; }},
  {nullptr, "INFERD_TOOL_FORMAT", "--tool-format",
   "Tool-call syntax: generic, hermes, llama3, mistral, functionary_v3_1, firefunction_v2, command_r7b, "
   "deepseek_r1 (default: detected from the chat template)",
   [](S& c) -> FieldRef { return &c.single.tool_format; }},
  {nullptr, "INFERD_REASONING", "--no-reasoning", "Parse <think> blocks into reasoning_content",
   [](S& c) -> FieldRef { return &c.single.reasoning; }},
  {nullptr, "INFERD_THREADS", "-t,--threads", "Engine threads (0 = one per core)",
   [](S& c) -> FieldRef { return &c.single.threads; }, 0, 1024},
  {nullptr, "INFERD_CTX_SIZE", "-c,--ctx-size", "Context per request (0 = the model's, at most 4096)",
   [](S& c) -> FieldRef { return &c.single.ctx_size; }, 0, int64_t{1} << 24},
  {nullptr, "INFERD_PARALLEL", "--parallel", "Requests decoded concurrently",
   [](S& c) -> FieldRef { return &c.single.parallel; }, 1, 256},
  {nullptr, "INFERD_KV_BUDGET_MB", "--kv-budget-mb",
   "KV cache memory for all requests together, MiB (0 = --parallel full contexts)",
   [](S& c) -> FieldRef { return &c.single.kv_budget_mb; }, 0, int64_t{1} << 30},
  {nullptr, "INFERD_KV_TYPE", "--kv-type",
   "KV cache element type: f16, or q8_0 (1.9x the positions in the same memory)",
   [](S& c) -> FieldRef { return &c.single.kv_type; }},
};

const ConfigField<M> kModelFields[] = {
  {"id", nullptr, nullptr, "Name clients use in \"model\" (required)", [](M& m) -> FieldRef { return &m.id; }},
  {"path", nullptr, nullptr, "GGUF file or model directory (required; relative paths are relative to the config file)",
   [](M& m) -> FieldRef { return &m.path; }},
  {"aliases", nullptr, nullptr, "Other names accepted in \"model\"", [](M& m) -> FieldRef { return &m.aliases; }},
  {"kind", nullptr, nullptr, "chat, completion or embedding (an embedding model answers /v1/embeddings only)",
   [](M& m) -> FieldRef { return &m.kind; }},
  {"context", nullptr, nullptr, "Positions per request (0 = the model's, at most 4096)",
   [](M& m) -> FieldRef { return &m.context; }, 0, int64_t{1} << 24},
  {"max_concurrent", nullptr, nullptr, "Sequences decoded together",
   [](M& m) -> FieldRef { return &m.max_concurrent; }, 1, 1024},
  {"max_queue", nullptr, nullptr, "Requests waiting beyond max_concurrent; more are refused or fall back",
   [](M& m) -> FieldRef { return &m.max_queue; }, 1, 1 << 20},
  {"kv_budget_mb", nullptr, nullptr, "KV cache of all its requests, MiB (0 = max_concurrent full contexts)",
   [](M& m) -> FieldRef { return &m.kv_budget_mb; }, 0, int64_t{1} << 30},
  {"kv_type", nullptr, nullptr, "KV cache element type: f16, or q8_0 (1.9x the positions in the same memory)",
   [](M& m) -> FieldRef { return &m.kv_type; }},
  {"threads", nullptr, nullptr, "Engine threads (0 = one per core)", [](M& m) -> FieldRef { return &m.threads; },
   0, 1024},
  {"chat_template", nullptr, nullptr, "Jinja file used instead of the model's chat template",
   [](M& m) -> FieldRef { return &m.chat_template; }},
  {"tool_format", nullptr, nullptr, "Tool-call syntax (default: detected from the template)",
   [](M& m) -> FieldRef { return &m.tool_format; }},
  {"reasoning", nullptr, nullptr, "Parse <think> blocks into reasoning_content",
   [](M& m) -> FieldRef { return &m.reasoning; }},
  {"system_prompt", nullptr, nullptr, "System message added to chats that have none",
   [](M& m) -> FieldRef { return &m.system_prompt; }},
  {"keep_alive_s", nullptr, nullptr, "Unload after this many idle seconds (0 = never)",
   [](M& m) -> FieldRef { return &m.keep_alive_s; }, 0, int64_t{1} << 31},
  {"pinned", nullptr, nullptr, "Never unloaded to make room for another model",
   [](M& m) -> FieldRef { return &m.pinned; }},
  {"preload", nullptr, nullptr, "Load at start instead of on first request", [](M& m) -> FieldRef { return &m.preload; }},
  {"fallbacks", nullptr, nullptr, "Models tried in order when this one cannot load, is overloaded or fails while generating",
   [](M& m) -> FieldRef { return &m.fallbacks; }},
  {"defaults.temperature", nullptr, nullptr, "Default temperature", [](M& m) -> FieldRef { return &m.temperature; }},
  {"defaults.top_p", nullptr, nullptr, "Default top_p", [](M& m) -> FieldRef { return &m.top_p; }},
  {"defaults.top_k", nullptr, nullptr, "Default top_k", [](M& m) -> FieldRef { return &m.top_k; }, 0, 1 << 20},
  {"defaults.min_p", nullptr, nullptr, "Default min_p", [](M& m) -> FieldRef { return &m.min_p; }},
  {"defaults.presence_penalty", nullptr, nullptr, "Default presence_penalty",
   [](M& m) -> FieldRef { return &m.presence_penalty; }},
  {"defaults.frequency_penalty", nullptr, nullptr, "Default frequency_penalty",
   [](M& m) -> FieldRef { return &m.frequency_penalty; }},
  {"defaults.repetition_penalty", nullptr, nullptr, "Default repetition_penalty",
   [](M& m) -> FieldRef { return &m.repetition_penalty; }},
  {"defaults.max_tokens", nullptr, nullptr, "Default max_tokens", [](M& m) -> FieldRef { return &m.max_tokens; },
   1, int64_t{1} << 24},
};

const ConfigField<ServiceSpec> kServiceFields[] = {
  {"name", nullptr, nullptr, "The service's name (required)", [](ServiceSpec& s) -> FieldRef { return &s.name; }},
  {"default_model", nullptr, nullptr, "Model of its requests that name none",
   [](ServiceSpec& s) -> FieldRef { return &s.default_model; }},
  {"allowed_models", nullptr, nullptr, "Models it may use (empty = all)",
   [](ServiceSpec& s) -> FieldRef { return &s.allowed_models; }},
  {"priority", nullptr, nullptr, "Added to its requests' priority (higher is served first)",
   [](ServiceSpec& s) -> FieldRef { return &s.priority; }, -1000, 1000},
  {"key_prefix", nullptr, nullptr, "Prefix of its new API keys, e.g. vista_ (default inferd_)",
   [](ServiceSpec& s) -> FieldRef { return &s.key_prefix; }},
  {"requests_per_minute", nullptr, nullptr, "Requests per minute of all its keys together (0 = no limit)",
   [](ServiceSpec& s) -> FieldRef { return &s.requests_per_minute; }, 0, kMaxLimit},
  {"tokens_per_minute", nullptr, nullptr, "Prompt + completion tokens per minute of all its keys (0 = no limit)",
   [](ServiceSpec& s) -> FieldRef { return &s.tokens_per_minute; }, 0, kMaxLimit},
  {"concurrent", nullptr, nullptr, "Requests of all its keys running at once (0 = no limit)",
   [](ServiceSpec& s) -> FieldRef { return &s.concurrent; }, 0, kMaxLimit},
};

const ConfigField<ApiKeyConfig> kApiKeyFields[] = {
  {"id", nullptr, nullptr, "The key's public id: the 12 characters after its prefix (required)",
   [](ApiKeyConfig& k) -> FieldRef { return &k.id; }},
  {"prefix", nullptr, nullptr, "The key's prefix, e.g. vista_ (required)", [](ApiKeyConfig& k) -> FieldRef { return &k.prefix; }},
  {"hash", nullptr, nullptr, "sha256:<hex> of the whole key, from `inferd keys hash KEY` (required)",
   [](ApiKeyConfig& k) -> FieldRef { return &k.hash; }},
  {"service", nullptr, nullptr, "The service the key acts for (required)", [](ApiKeyConfig& k) -> FieldRef { return &k.service; }},
  {"name", nullptr, nullptr, "A label for people", [](ApiKeyConfig& k) -> FieldRef { return &k.name; }},
  {"scopes", nullptr, nullptr, "inference, sessions and/or admin (admin grants every route)",
   [](ApiKeyConfig& k) -> FieldRef { return &k.scopes; }},
  {"expires_at", nullptr, nullptr, "ISO-8601 time the key stops working (empty = never)",
   [](ApiKeyConfig& k) -> FieldRef { return &k.expires_at; }},
  {"requests_per_minute", nullptr, nullptr, "Requests per minute of this key (0 = no limit)",
   [](ApiKeyConfig& k) -> FieldRef { return &k.requests_per_minute; }, 0, kMaxLimit},
  {"tokens_per_minute", nullptr, nullptr, "Prompt + completion tokens per minute of this key (0 = no limit)",
   [](ApiKeyConfig& k) -> FieldRef { return &k.tokens_per_minute; }, 0, kMaxLimit},
  {"concurrent", nullptr, nullptr, "Requests of this key running at once (0 = no limit)",
   [](ApiKeyConfig& k) -> FieldRef { return &k.concurrent; }, 0, kMaxLimit},
};
const ConfigField<TlsCertificateConfig> kCertificateFields[] = {
  {"cert", nullptr, nullptr, "Certificate (PEM), then its chain; serves the DNS names of its subjectAltName (required)",
   [](TlsCertificateConfig& t) -> FieldRef { return &t.cert; }},
  {"key", nullptr, nullptr, "Its private key (PEM, unencrypted; required)",
   [](TlsCertificateConfig& t) -> FieldRef { return &t.key; }},
};
// clang-format on

Status parse_int(std::string_view text, int64_t min, int64_t max, int64_t* out) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return invalid_argument("expected an integer");
  if (v < min || v > max) return invalid_argument("{} is outside [{}, {}]", v, min, max);
  *out = v;
  return {};
}

Status parse_double(std::string_view text, double* out) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return invalid_argument("expected a number");
  *out = v;
  return {};
}

Status parse_bool(std::string_view text, bool* out) {
  static constexpr std::string_view kTrue[] = {"true", "1", "yes", "on"};
  static constexpr std::string_view kFalse[] = {"false", "0", "no", "off"};
  if (std::find(std::begin(kTrue), std::end(kTrue), text) != std::end(kTrue))
    return *out = true, Status();
  if (std::find(std::begin(kFalse), std::end(kFalse), text) != std::end(kFalse))
    return *out = false, Status();
  return invalid_argument("expected a boolean (true or false)");
}

}  // namespace

std::span<const ConfigField<ServeConfig>> serve_fields() {
  return kServeFields;
}
std::span<const ConfigField<ModelConfig>> model_fields() {
  return kModelFields;
}
std::span<const ConfigField<ServiceSpec>> service_fields() {
  return kServiceFields;
}
std::span<const ConfigField<ApiKeyConfig>> api_key_fields() {
  return kApiKeyFields;
}
std::span<const ConfigField<TlsCertificateConfig>> certificate_fields() {
  return kCertificateFields;
}

std::string_view field_type_name(const FieldRef& ref) {
  static constexpr std::string_view kNames[] = {"a string",  "an integer",        "a number",
                                                "a boolean", "a list of strings", "an integer",
                                                "a number"};
  return kNames[ref.index()];
}

Status set_field_from_text(const FieldRef& ref, std::string_view text, int64_t min, int64_t max) {
  struct Visitor {
    std::string_view text;
    int64_t min, max;
    Status operator()(std::string* p) const { return *p = std::string(text), Status(); }
    Status operator()(int64_t* p) const { return parse_int(text, min, max, p); }
    Status operator()(double* p) const { return parse_double(text, p); }
    Status operator()(bool* p) const { return parse_bool(text, p); }
    Status operator()(std::vector<std::string>* p) const {
      p->clear();
      size_t start = 0;
      while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        if (comma > start) p->emplace_back(text.substr(start, comma - start));
        start = comma + 1;
      }
      return {};
    }
    Status operator()(std::optional<int64_t>* p) const {
      int64_t v = 0;
      INFERD_RETURN_IF_ERROR(parse_int(text, min, max, &v));
      *p = v;
      return {};
    }
    Status operator()(std::optional<double>* p) const {
      double v = 0;
      INFERD_RETURN_IF_ERROR(parse_double(text, &v));
      *p = v;
      return {};
    }
  };
  return std::visit(Visitor{text, min, max}, ref);
}

std::string field_to_text(const FieldRef& ref) {
  struct Visitor {
    std::string operator()(std::string* p) const { return *p; }
    std::string operator()(int64_t* p) const { return std::to_string(*p); }
    std::string operator()(double* p) const { return fmt::format("{}", *p); }
    std::string operator()(bool* p) const { return *p ? "true" : "false"; }
    std::string operator()(std::vector<std::string>* p) const {
      return fmt::format("{}", fmt::join(*p, ","));
    }
    std::string operator()(std::optional<int64_t>* p) const {
      return *p ? std::to_string(**p) : "";
    }
    std::string operator()(std::optional<double>* p) const {
      return *p ? fmt::format("{}", **p) : "";
    }
  };
  return std::visit(Visitor{}, ref);
}

}  // namespace inferd::server

// inferd serve: the OpenAI-compatible HTTP server on one model (a built-in random-weight demo
// model when none is given). It answers at once (GET /health says 503 while the model loads),
// and stops gracefully on SIGINT or SIGTERM: no new connections, in-flight requests get
// --shutdown-timeout seconds to finish, the rest are cancelled.
#include <csignal>
#include <filesystem>
#include <map>
#include <thread>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "model/synth_model.h"
#include "server/api/kv_endpoints.h"
#include "server/audit/audit_log.h"
#include "server/http/observer_fanout.h"
#include "server/http/http_server.h"
#include "server/openai_server.h"
#include "server/sessions/session_service.h"
#include "server/telemetry/telemetry.h"

namespace inferd::cli {
namespace {

struct ServeOptions {
  std::string model;
  std::string model_id;
  std::vector<std::string> aliases;
  std::string chat_template_file;
  std::string tool_format;
  bool no_reasoning = false;
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int threads = 0;
  int64_t ctx_size = 0;
  int parallel = 4;
  int64_t kv_budget_mb = 0;
  KvCacheType kv_type = KvCacheType::kF16;
  std::string kv_dir;
  bool kv_restore = false;
  double kv_persist_idle_s = 0;
  std::string api_prefix = "/api/v1";
  uint64_t max_body_mb = 32;
  int max_connections = 1024;
  int shutdown_timeout_s = 10;
  std::string otlp_endpoint;
  bool no_access_log = false;
  server::AuditLogOptions audit;
  int64_t audit_max_mb = 64;
  std::vector<std::string> audit_patterns;  // NAME=REGEX
  server::sessions::SessionOptions sessions;
  bool no_sessions = false;
  std::vector<std::string> session_prices;  // MODEL=PROMPT,COMPLETION[,CACHED]
};

// The audit log of --audit-log (null when off); errors name the flag.
Result<std::shared_ptr<server::AuditLog>> open_audit_log(const ServeOptions& o) {
  if (o.audit.path.empty()) return std::shared_ptr<server::AuditLog>();
  server::AuditLogOptions a = o.audit;
  a.max_bytes = static_cast<size_t>(o.audit_max_mb) << 20;
  for (const std::string& p : o.audit_patterns) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos) return invalid_argument("--audit-mask-pattern '{}': expected NAME=REGEX", p);
    a.masking.extra.push_back({p.substr(0, eq), p.substr(eq + 1)});
  }
  return server::AuditLog::create(std::move(a));
}

// "MODEL=PROMPT,COMPLETION[,CACHED]" (US dollars per million tokens; cached prompt tokens cost
// PROMPT when CACHED is not given) into `prices`.
Status parse_session_prices(const std::vector<std::string>& specs,
                            std::map<std::string, server::sessions::ModelPrice>* prices) {
  for (const std::string& spec : specs) {
    const auto bad = [&] {
      return invalid_argument("--session-price '{}' must be MODEL=PROMPT,COMPLETION[,CACHED] (USD per million tokens)",
                              spec);
    };
    const auto eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0) return bad();
    std::vector<double> v;
    std::string_view rest = std::string_view(spec).substr(eq + 1);
    for (;;) {
      const auto comma = rest.find(',');
      const std::string part(rest.substr(0, comma));
      char* end = nullptr;
      const double x = std::strtod(part.c_str(), &end);
      if (part.empty() || *end != '\0' || !(x >= 0)) return bad();
      v.push_back(x);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    if (v.size() < 2 || v.size() > 3) return bad();
    (*prices)[spec.substr(0, eq)] = {v[0], v[1], v.size() == 3 ? v[2] : v[0]};
  }
  return {};
}

// The id the model will be served under (ServedModel's rule), for its state while it loads.
std::string expected_model_id(const ServeOptions& o) {
  if (!o.model_id.empty()) return o.model_id;
  if (o.model.empty()) return "inferd-demo";
  return server::default_model_id(o.model);
}

// The demo model: small, deterministic random weights (so its output is meaningless).
Result<std::string> write_demo_model() {
  model::SynthOptions o;
  o.dim = 256;
  o.layers = 4;
  o.heads = 4;
  o.kv_heads = 2;
  o.ffn = 768;
  o.vocab = 4096;
  o.context = 4096;
  o.name = "inferd-demo";
  std::error_code ec;
  const auto dir = std::filesystem::temp_directory_path(ec);
  if (ec) return io_error("no temporary directory for the demo model: {}", ec.message());
  const std::string path = (dir / ("inferd-demo-" + std::to_string(::getpid()) + ".gguf")).string();
  INFERD_RETURN_IF_ERROR(model::write_synth_model(o, path));
  return path;
}

Result<std::unique_ptr<server::ServedModel>> load_model(const ServeOptions& o) {
  server::ServedModelOptions m;
  m.id = o.model_id;
  m.aliases = o.aliases;
  m.chat_template_file = o.chat_template_file;
  m.output_format = o.tool_format;
  m.parse_reasoning = !o.no_reasoning;
  m.engine.num_threads = o.threads;
  m.engine.ctx_per_slot = o.ctx_size;
  m.engine.max_slots = o.parallel;
  m.engine.kv_budget_bytes = o.kv_budget_mb << 20;
  m.engine.kv_type = o.kv_type;
  if (o.kv_persist_idle_s > 0) {
    m.engine.kv_persist_dir = (std::filesystem::path(o.kv_dir) / expected_model_id(o)).string();
    m.engine.kv_persist_idle_s = o.kv_persist_idle_s;
  }
  if (!o.model.empty()) {
    m.path = o.model;
    return server::ServedModel::load(m);
  }
  spdlog::warn("no --model given: serving the built-in demo model 'inferd-demo' (random weights, so its "
               "answers are meaningless; pass --model PATH.gguf to serve a real model)");
  INFERD_ASSIGN_OR_RETURN(m.path, write_demo_model());
  if (m.id.empty()) m.id = "inferd-demo";
  auto loaded = server::ServedModel::load(m);
  std::error_code ec;
  std::filesystem::remove(m.path, ec);  // the mapping stays valid after the name is gone
  return loaded;
}

int serve(const ServeOptions& o) {
  // Signals are taken synchronously by this thread; every thread started below inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  server::TelemetryOptions t;
  t.version = std::string(server::kServerVersion);
  t.otlp_endpoint = o.otlp_endpoint;
  t.access_log = !o.no_access_log;
  auto telemetry = server::Telemetry::create(t);
  if (!telemetry.ok()) {
    spdlog::error("--otlp-endpoint: {}", telemetry.status().message());
    return 2;
  }
  auto audit = open_audit_log(o);
  if (!audit.ok()) {
    spdlog::error("audit log: {}", audit.status().message());
    return 2;
  }
  auto api = std::make_shared<server::ApiContext>();
  api->kv_dir = o.kv_dir;
  if (!o.no_sessions) {
    server::sessions::SessionOptions so = o.sessions;
    if (Status st = parse_session_prices(o.session_prices, &so.prices); !st.ok()) {
      spdlog::error("{}", st.message());
      return 2;
    }
    auto sessions = server::sessions::SessionService::open(std::move(so));
    if (!sessions.ok()) {
      spdlog::error("--session-store: {}", sessions.status().message());
      return 2;
    }
    api->sessions = std::move(sessions).value();
    spdlog::info("sessions stored in {}", api->sessions->store().describe());
  }
  api->set_telemetry(*telemetry);
  auto router = server::make_openai_router(api, o.api_prefix);
  if (!router.ok()) {
    spdlog::error("--api-prefix: {}", router.status().message());
    return 2;
  }
  server::HttpServerOptions http;
  http.host = o.host;
  http.port = o.port;
  http.max_body_bytes = o.max_body_mb << 20;
  http.max_connections = o.max_connections;
  http.shutdown_deadline = std::chrono::seconds(o.shutdown_timeout_s);
  http.observer = *telemetry;
  if (*audit) http.observer = std::make_shared<server::ObserverFanout>(
                  std::vector<std::shared_ptr<server::ExchangeObserver>>{*telemetry, *audit});
  server::HttpServer server(http, std::move(router).value());
  if (Status st = server.start(); !st.ok()) {
    spdlog::error("cannot listen: {}", st.to_string());
    return 1;
  }
  spdlog::info("inferd {} listening on http://{}:{} (OpenAI API under /v1 and {})", server::kServerVersion, o.host,
               server.port(), o.api_prefix.empty() ? "nothing else" : o.api_prefix);

  std::atomic<bool> load_failed{false};
  if (!o.otlp_endpoint.empty()) spdlog::info("exporting traces to {}/v1/traces (OTLP/HTTP JSON)", o.otlp_endpoint);
  std::thread loader([&] {
    const std::string expected_id = expected_model_id(o);
    (*telemetry)->set_model_state(expected_id, server::ModelState::kLoading);
    const auto load_start = std::chrono::steady_clock::now();
    auto m = load_model(o);
    if (!m.ok()) {
      spdlog::error("cannot load the model: {}", m.status().to_string());
      (*telemetry)->set_model_state(expected_id, server::ModelState::kFailed);
      load_failed = true;
      return;
    }
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    (*telemetry)->set_model_state((*m)->id(), server::ModelState::kReady);
    (*telemetry)->set_model_loaded((*m)->id(), (*m)->model().info().weight_bytes, load_s);
    const ModelInfo& info = (*m)->model().info();
    spdlog::info("model '{}' ready: {} {}, {} parameters, context {} per request, {} parallel requests", (*m)->id(),
                 info.architecture, info.weight_type, info.n_params, (*m)->engine().ctx_per_slot(), o.parallel);
    if (o.kv_restore) {
      const int n = server::restore_saved_prefixes(*api, **m);
      spdlog::info("model '{}': {} saved KV prefixes restored from {}", (*m)->id(), n, o.kv_dir);
    }
    std::vector<std::unique_ptr<server::ServedModel>> models;
    models.push_back(std::move(m).value());
    api->publish(std::move(models));
  });

  int exit_code = 0;
  for (;;) {
    const timespec tick{0, 200'000'000};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("{}: stopping (in-flight requests get {} s)", sig == SIGINT ? "SIGINT" : "SIGTERM",
                   o.shutdown_timeout_s);
      break;
    }
    if (load_failed) {
      exit_code = 1;
      break;
    }
  }
  server.stop();
  loader.join();
  (void)(*telemetry)->flush_spans(std::chrono::seconds(2));
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve a model over the OpenAI-compatible HTTP API");
  auto o = std::make_shared<ServeOptions>();
  cmd->add_option("-m,--model", o->model,
                  "GGUF file or Hugging Face / MLX model directory (default: a built-in random-weight demo model)");
  cmd->add_option("--model-id", o->model_id, "Name clients use for the model (default: the file name)");
  cmd->add_option("--alias", o->aliases, "Another name for the model (repeatable)");
  cmd->add_option("--chat-template-file", o->chat_template_file, "Jinja chat template to use instead of the model's");
  cmd->add_option("--tool-format", o->tool_format,
                  "Tool-call syntax: generic, hermes, llama3, mistral, functionary_v3_1, firefunction_v2, "
                  "command_r7b, deepseek_r1 (default: detected from the chat template)");
  cmd->add_flag("--no-reasoning", o->no_reasoning, "Leave <think> blocks in content instead of reasoning_content");
  cmd->add_option("--host", o->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->port, "Port to listen on (0 = any free port)")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Engine threads (0 = one per core)")->capture_default_str();
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Context per request (0 = the model's, at most 4096)")
      ->capture_default_str();
  cmd->add_option("--parallel", o->parallel, "Requests decoded concurrently")->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--kv-budget-mb", o->kv_budget_mb,
                  "KV cache memory for all requests together, MiB (0 = --parallel full contexts)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  add_kv_type_option(cmd, o->kv_type);
  cmd->add_option("--kv-dir", o->kv_dir, "Directory of saved KV prefixes (enables /v1/kv/save, restore, list, erase)");
  cmd->add_flag("--kv-restore", o->kv_restore, "At start, restore every saved KV prefix of the model from --kv-dir")
      ->needs("--kv-dir");
  cmd->add_option("--kv-persist-idle", o->kv_persist_idle_s,
                  "Save the KV prefixes of recent conversations (128+ tokens) into --kv-dir after this many "
                  "idle seconds and at shutdown (0 = off; --kv-restore loads them at the next start)")
      ->needs("--kv-dir")->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--api-prefix", o->api_prefix, "Second prefix of the /v1 routes (empty = none)")
      ->capture_default_str();
  cmd->add_option("--max-body-mb", o->max_body_mb, "Largest request body in MiB (413 beyond)")->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--max-connections", o->max_connections, "Open connections at most (503 beyond)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--shutdown-timeout", o->shutdown_timeout_s, "Seconds in-flight requests get on SIGTERM/SIGINT")
      ->capture_default_str()->check(CLI::Range(0, 3600));
  cmd->add_option("--otlp-endpoint", o->otlp_endpoint,
                  "Export traces over OTLP/HTTP (JSON) to this collector, e.g. http://127.0.0.1:4318 "
                  "(plain http only; /v1/traces is appended)");
  cmd->add_flag("--no-access-log", o->no_access_log, "Do not log one line per request");
  cmd->add_option("--audit-log", o->audit.path,
                  "Append one JSON line per request (service, key id, model, tokens, status, latency, client) to "
                  "this file, rotated by size");
  cmd->add_option("--audit-max-mb", o->audit_max_mb, "Size at which the audit log is rotated, MiB")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--audit-files", o->audit.max_files, "Rotated audit files kept")->capture_default_str()
      ->check(CLI::Range(1, 200000));
  cmd->add_option("--audit-bodies", o->audit.body_services,
                  "Also record the request bodies of this service, PII-masked (repeatable; '*' = every service, "
                  "'default' = callers without a service)");
  cmd->add_option("--audit-mask-pattern", o->audit_patterns,
                  "Mask this pattern too in recorded bodies, written NAME=REGEX (repeatable; shown as [NAME])");
  cmd->add_option("--session-store", o->sessions.store_url,
                  "Where sessions live: memory, sqlite:PATH or redis://[:PASSWORD@]HOST[:PORT][/DB] (default: "
                  "sqlite:$XDG_STATE_HOME/inferd/sessions.db, else ~/.local/state/inferd/sessions.db)");
  cmd->add_flag("--no-sessions", o->no_sessions, "Serve without sessions (the session API answers 400)")
      ->excludes("--session-store");
  cmd->add_option("--session-ttl", o->sessions.default_ttl_s, "Lifetime of a session, seconds, when its creator names none")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--session-max-ttl", o->sessions.max_ttl_s, "Longest session lifetime a client may ask for, seconds")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--session-sweep-interval", o->sessions.sweep_interval_s,
                  "Seconds between background removals of expired sessions (0 = only on read)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--session-max-messages", o->sessions.max_messages, "Messages a session keeps at most")
      ->capture_default_str()->check(CLI::Range(int64_t{2}, int64_t{100'000'000}));
  cmd->add_option("--session-price", o->session_prices,
                  "Price of a model for session cost estimates: MODEL=PROMPT,COMPLETION[,CACHED] in USD per million "
                  "tokens (repeatable)");
  return {cmd, [o] { return serve(*o); }, "info"};
}

}  // namespace inferd::cli

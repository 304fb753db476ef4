// inferd serve: the OpenAI-compatible HTTP server. Configured by a YAML file (--config), the
// INFERD_* environment and flags, each overriding the one before; every option is a row of the
// field table (src/server/config/config_fields.cpp), which also makes the flags below.
//
// With models in the configuration (or a models_dir) the server loads them on demand under the
// memory budget; otherwise it serves one model (--model, else a built-in random-weight demo
// model). It answers at once (in single-model mode GET /health says 503 while the model
// loads), and stops gracefully on SIGINT or SIGTERM: no new connections, in-flight requests
// get the shutdown timeout to finish, the rest are cancelled. With TLS configured (tls.* or
// --tls-cert/--tls-key) it serves HTTPS, and SIGHUP re-reads the certificate files (new
// connections use them; on an error the old ones stay and the error is logged).
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "config_flags.h"
#include "model/synth_model.h"
#include "server/api/kv_endpoints.h"
#include "server/config/serve_config_loader.h"
#include "server/http/http_server.h"
#include "server/http/observer_fanout.h"
#include "server/sessions/session_service.h"
#include "server/openai_server.h"
#include "server/telemetry/telemetry.h"

namespace inferd::cli {
namespace {

using server::ServeConfig;

// The id the model will be served under (ServedModel's rule), for its state while it loads.
std::string expected_model_id(const server::SingleModelSettings& o) {
  if (!o.id.empty()) return o.id;
  if (o.path.empty()) return "inferd-demo";
  return server::default_model_id(o.path);
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

Result<std::unique_ptr<server::ServedModel>> load_model(const ServeConfig& c) {
  const server::SingleModelSettings& o = c.single;
  server::ServedModelOptions m;
  m.id = o.id;
  m.aliases = o.aliases;
  m.chat_template_file = o.chat_template_file;
  m.output_format = o.tool_format;
  m.parse_reasoning = o.reasoning;
  m.engine.num_threads = static_cast<int>(o.threads);
  m.engine.ctx_per_slot = o.ctx_size;
  m.engine.max_slots = static_cast<int>(o.parallel);
  m.engine.kv_budget_bytes = o.kv_budget_mb << 20;
  server::apply_kv_settings(c, expected_model_id(o), o.kv_type, &m.engine);
  if (!o.path.empty()) {
    m.path = o.path;
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

// Single-model mode: loads the model while the server already answers, then publishes it.
// Sets `failed` when it cannot.
void load_single_model(const ServeConfig& c, server::ApiContext& api, server::Telemetry& telemetry,
                       std::atomic<bool>& failed) {
  const std::string expected_id = expected_model_id(c.single);
  telemetry.set_model_state(expected_id, server::ModelState::kLoading);
  const auto load_start = std::chrono::steady_clock::now();
  auto m = load_model(c);
  if (!m.ok()) {
    spdlog::error("cannot load the model: {}", m.status().to_string());
    telemetry.set_model_state(expected_id, server::ModelState::kFailed);
    failed = true;
    return;
  }
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  telemetry.set_model_loaded((*m)->id(), (*m)->model().info().weight_bytes, load_s);
  const ModelInfo& info = (*m)->model().info();
  spdlog::info("model '{}' ready: {} {}, {} parameters, context {} per request, {} parallel requests", (*m)->id(),
               info.architecture, info.weight_type, info.n_params, (*m)->engine().ctx_per_slot(), c.single.parallel);
  if (c.server.kv_restore) {
    const int n = server::restore_saved_prefixes(api, **m);
    spdlog::info("model '{}': {} saved KV prefixes restored from {}", (*m)->id(), n, c.server.kv_dir);
  }
  std::vector<std::unique_ptr<server::ServedModel>> models;
  models.push_back(std::move(m).value());
  api.publish(std::move(models));
}

int serve(const ServeConfig& c) {
  // Signals are taken synchronously by this thread; every thread started below inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  server::TelemetryOptions t;
  t.version = std::string(server::kServerVersion);
  t.otlp_endpoint = c.telemetry.otlp_endpoint;
  t.access_log = c.telemetry.access_log;
  auto telemetry = server::Telemetry::create(t);
  if (!telemetry.ok()) {
    spdlog::error("telemetry.otlp_endpoint: {}", telemetry.status().message());
    return 2;
  }
  std::shared_ptr<server::AuditLog> audit;
  if (!c.audit.path.empty()) {
    auto opened = server::AuditLog::create(server::make_audit_options(c));
    if (!opened.ok()) {
      spdlog::error("audit.path: {}", opened.status().message());
      return 2;
    }
    audit = std::move(opened).value();
  }
  auto api = std::make_shared<server::ApiContext>();
  api->kv_dir = c.server.kv_dir;
  api->set_telemetry(*telemetry);
  if (c.sessions.enabled) {
    auto sessions = server::sessions::SessionService::open(server::make_session_options(c));
    if (!sessions.ok()) {
      spdlog::error("sessions.store: {}", sessions.status().message());
      return 2;
    }
    api->sessions = std::move(sessions).value();
    spdlog::info("sessions stored in {}", api->sessions->store().describe());
  }
  const bool registry_mode = server::uses_registry(c);
  if (registry_mode) {
    auto registry = server::make_registry_config(c);
    if (!registry.ok()) {
      spdlog::error("{}", registry.status().message());
      return 2;
    }
    const size_t num_models = registry->models.size();
    if (Status st = api->configure(std::move(registry).value()); !st.ok()) {
      spdlog::error("{}", st.message());
      return 2;
    }
    spdlog::info("{} models configured (loaded on first use), memory budget {}", num_models,
                 c.server.memory_budget_mb > 0 ? std::to_string(c.server.memory_budget_mb) + " MiB" : "unlimited");
  }
  if (server::access_control_enabled(c)) {
    auto options = server::make_access_options(c);
    if (!options.ok()) {
      spdlog::error("{}", options.status().message());
      return 2;
    }
    auto access = server::auth::AccessControl::create(std::move(options).value());
    if (!access.ok()) {
      spdlog::error("{}", access.status().message());
      return 2;
    }
    api->access = std::move(access).value();
    spdlog::info("access control on: {} configured keys{}", c.api_keys.size(),
                 c.auth.keys_store.empty() ? "" : ", keys stored in " + api->access->key_store()->describe());
  } else if (c.server.host != "127.0.0.1" && c.server.host != "::1" && c.server.host != "localhost") {
    spdlog::warn("access control is off and the server listens on {}: anyone who reaches it can use it (configure "
                 "API keys: auth.keys_store, api_keys)", c.server.host);
  }
  auto router = server::make_openai_router(api, c.server.api_prefix);
  if (!router.ok()) {
    spdlog::error("server.api_prefix: {}", router.status().message());
    return 2;
  }
  server::HttpServerOptions http;
  http.host = c.server.host;
  http.port = static_cast<uint16_t>(c.server.port);
  http.num_io_threads = static_cast<int>(c.server.io_threads);
  http.max_body_bytes = static_cast<uint64_t>(c.server.max_body_mb) << 20;
  http.max_connections = static_cast<int>(c.server.max_connections);
  http.shutdown_deadline = std::chrono::seconds(c.server.shutdown_timeout_s);
  http.tls = server::make_tls_options(c);
  http.cors_allowed_origins = c.server.cors_origins;
  std::vector<std::shared_ptr<server::ExchangeObserver>> observers = {*telemetry};
  if (api->access) {
    http.authenticate = server::auth::AccessControl::authenticator(api->access);
    observers.push_back(api->access);  // charges tokens to the rate limits
  }
  if (audit) {
    http.capture_response_body = [audit](const server::Request& r) { return audit->records_bodies_of(r); };
    observers.push_back(audit);
  }
  http.observer = observers.size() == 1 ? observers[0] : std::make_shared<server::ObserverFanout>(std::move(observers));
  server::HttpServer server(http, std::move(router).value());
  if (Status st = server.start(); !st.ok()) {
    spdlog::error("cannot listen: {}", st.to_string());
    return 1;
  }
  const bool tls = http.tls.enabled();
  spdlog::info("inferd {} listening on {}://{}:{} (OpenAI API under /v1 and {})", server::kServerVersion,
               tls ? "https" : "http", c.server.host, server.port(),
               c.server.api_prefix.empty() ? "nothing else" : c.server.api_prefix);
  if (server.redirect_port() != 0)
    spdlog::info("redirecting http://{}:{} to https", c.server.host, server.redirect_port());
  if (!c.telemetry.otlp_endpoint.empty())
    spdlog::info("exporting traces to {}/v1/traces (OTLP/HTTP JSON)", c.telemetry.otlp_endpoint);

  std::atomic<bool> load_failed{false};
  std::thread loader;
  if (!registry_mode) loader = std::thread([&] { load_single_model(c, *api, **telemetry, load_failed); });

  int exit_code = 0;
  for (;;) {
    const timespec tick{0, 200'000'000};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGHUP) {
      if (!tls) {
        spdlog::info("SIGHUP: no TLS certificates to reload");
      } else if (Status st = server.reload_tls(); st.ok()) {
        spdlog::info("SIGHUP: TLS certificates reloaded");
      } else {
        spdlog::error("SIGHUP: TLS certificates not reloaded, the previous ones stay: {}", st.message());
      }
      continue;
    }
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("{}: stopping (in-flight requests get {} s)", sig == SIGINT ? "SIGINT" : "SIGTERM",
                   c.server.shutdown_timeout_s);
      break;
    }
    if (load_failed) {
      exit_code = 1;
      break;
    }
  }
  server.stop();
  if (loader.joinable()) loader.join();
  api.reset();  // frees the models (their requests were finished or cancelled by stop())
  (void)(*telemetry)->flush_spans(std::chrono::seconds(2));
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve models over the OpenAI-compatible HTTP API");
  auto config_path = std::make_shared<std::string>();
  cmd->add_option("--config", *config_path, "YAML configuration file (see config/inferd.example.yaml)");
  auto assignments = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--set", *assignments,
                  "Override one field, PATH=VALUE: server.port=9000, models.<id>.context=8192, "
                  "services.<name>.default_model=small (repeatable; applied after the other flags)");
  auto flags = std::make_shared<ConfigFlags>(*cmd);
  return {cmd, [config_path, flags, assignments] {
            ServeConfig c;
            if (!config_path->empty()) {
              if (Status st = server::read_config_file(*config_path, &c); !st.ok()) {
                spdlog::error("{}", st.message());
                return 2;
              }
            }
            if (Status st = server::apply_environment(&c, [](const char* name) { return std::getenv(name); });
                !st.ok()) {
              spdlog::error("{}", st.message());
              return 2;
            }
            if (Status st = flags->apply(&c); !st.ok()) {
              spdlog::error("{}", st.message());
              return 2;
            }
            for (const std::string& a : *assignments) {
              if (Status st = server::apply_assignment(&c, a); !st.ok()) {
                spdlog::error("--set {}", st.message());
                return 2;
              }
            }
            const server::ConfigReport report = server::check_config(c);
            for (const std::string& w : report.warnings) spdlog::warn("{}", w);
            for (const std::string& e : report.errors) spdlog::error("{}", e);
            if (!report.ok()) return 2;
            return serve(c);
          },
          "info"};
}

}  // namespace inferd::cli

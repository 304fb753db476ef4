#include "server/config/serve_config_loader.h"

#include <fstream>
#include <functional>
#include <map>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "server/config/config_field.h"
#include "testing/test_paths.h"

namespace inferd::server {
namespace {

const std::filesystem::path kExample = "config/inferd.example.yaml";

Status read(std::string_view yaml, ServeConfig* c) {
  return read_config_yaml(yaml, "", c);
}

std::string error_of(std::string_view yaml) {
  ServeConfig c;
  const Status st = read(yaml, &c);
  return st.ok() ? std::string("ok") : st.message();
}

TEST(ServeConfigLoaderTest, ReadsEverySection) {
  ServeConfig c;
  ASSERT_TRUE(read(R"(
server: {host: 0.0.0.0, port: 9000, memory_budget_mb: 2048, default_model: a}
telemetry: {access_log: no}
models:
  - {id: a, path: /m/a.gguf, aliases: [x, y], context: 512, pinned: true, fallbacks: [b],
     defaults: {temperature: 0.5, max_tokens: 64}}
  - {id: b, path: /m/b.gguf, kind: completion, keep_alive_s: 30}
services:
  - {name: vista, default_model: b, allowed_models: [a, b], priority: 3}
)",
                   &c)
                  .ok());
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9000);
  EXPECT_EQ(c.server.memory_budget_mb, 2048);
  EXPECT_FALSE(c.telemetry.access_log);
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].aliases, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(c.models[0].context, 512);
  EXPECT_TRUE(c.models[0].pinned);
  EXPECT_EQ(c.models[0].temperature, 0.5);
  EXPECT_EQ(c.models[0].max_tokens, 64);
  EXPECT_FALSE(c.models[0].top_p.has_value());
  EXPECT_EQ(c.models[1].kind, "completion");
  ASSERT_EQ(c.services.size(), 1u);
  EXPECT_EQ(c.services[0].priority, 3);
  EXPECT_TRUE(check_config(c).ok());

  auto r = make_registry_config(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->options.memory_budget_bytes, 2048ull << 20);
  ASSERT_EQ(r->models.size(), 2u);
  EXPECT_EQ(r->models[0].load.engine.ctx_per_slot, 512);
  EXPECT_EQ(r->models[0].load.request_defaults["temperature"], 0.5);
  EXPECT_EQ(r->models[0].load.request_defaults["max_tokens"], 64);
  EXPECT_FALSE(r->models[0].load.request_defaults.contains("top_p"));
  EXPECT_EQ(r->models[1].kind, ModelKind::kCompletion);
  EXPECT_EQ(r->models[1].keep_alive, std::chrono::seconds(30));
  EXPECT_NE(r->services.find("vista"), nullptr);
}

TEST(ServeConfigLoaderTest, ReadsTheTlsSection) {
  ServeConfig c;
  const Status st = read_config_yaml(R"(
server: {port: 8443, cors_origins: ["https://app.example.com", "*"]}
tls:
  certificates:
    - {cert: a.pem, key: a.key}
    - {cert: /etc/b.pem, key: /etc/b.key}
  client_ca: ca.pem
  client_certs: required
  redirect_port: 8080
  hsts_max_age_s: 0
)",
                                     "/conf", &c);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(c.server.cors_origins, (std::vector<std::string>{"https://app.example.com", "*"}));
  TlsOptions o = make_tls_options(c);
  ASSERT_EQ(o.certificates.size(), 2u);
  EXPECT_EQ(o.certificates[0].cert_file, "/conf/a.pem");
  EXPECT_EQ(o.certificates[0].key_file, "/conf/a.key");
  EXPECT_EQ(o.certificates[1].cert_file, "/etc/b.pem");
  EXPECT_EQ(o.client_ca_file, "/conf/ca.pem");
  EXPECT_EQ(o.client_certs, ClientCertMode::kRequired);
  EXPECT_EQ(o.redirect_port, 8080);
  EXPECT_EQ(o.hsts_max_age_s, 0);
  ConfigReport r = check_config(c);
  EXPECT_TRUE(r.ok()) << r.errors.front();
  EXPECT_FALSE(r.warnings.empty());  // the files do not exist

  // The command line's pairs replace the list.
  ASSERT_TRUE(apply_environment(&c, [](const char* name) -> const char* {
                return std::string_view(name) == "INFERD_TLS_CERT"  ? "/x.pem,/y.pem"
                       : std::string_view(name) == "INFERD_TLS_KEY" ? "/x.key,/y.key"
                                                                    : nullptr;
              }).ok());
  o = make_tls_options(c);
  ASSERT_EQ(o.certificates.size(), 2u);
  EXPECT_EQ(o.certificates[1].cert_file, "/y.pem");
  EXPECT_EQ(o.certificates[1].key_file, "/y.key");
  c.tls.key_files.pop_back();
  r = check_config(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors.front(), "--tls-cert: 2 certificates but 1 keys (--tls-key)");
}

TEST(ServeConfigLoaderTest, TlsErrorsNameTheField) {
  EXPECT_EQ(error_of("tls:\n  certificates:\n    - {cert: a.pem, kee: a.key}\n"),
            "tls.certificates[0].kee: unknown field");
  EXPECT_EQ(error_of("tls:\n  certificates: a.pem\n"),
            "tls.certificates: expected a list of {cert, key}");
  EXPECT_EQ(error_of("tls:\n  redirect_port: 99999\n"),
            "tls.redirect_port: 99999 is outside [0, 65535]");
  auto first_error = [](std::string_view yaml) {
    ServeConfig c;
    EXPECT_TRUE(read(yaml, &c).ok());
    const ConfigReport r = check_config(c);
    return r.errors.empty() ? std::string("ok") : r.errors.front();
  };
  EXPECT_EQ(first_error("tls: {client_certs: sometimes}\n"),
            "tls.client_certs: expected none, optional or required");
  EXPECT_EQ(first_error("tls: {redirect_port: 8081}\n"),
            "tls.redirect_port: needs a certificate (tls.certificates or --tls-cert)");
  EXPECT_EQ(first_error("tls:\n  certificates: [{cert: a.pem, key: a.key}]\n  client_certs: required\n"),
            "tls.client_certs: needs tls.client_ca");
  EXPECT_EQ(first_error("tls:\n  certificates: [{cert: a.pem}]\n"), "tls.certificates[0].key: required");
  EXPECT_EQ(first_error("server: {cors_origins: [app.example.com]}\n"),
            "server.cors_origins[0]: 'app.example.com' is not an origin: expected SCHEME://HOST[:PORT] or '*'");
}

TEST(ServeConfigLoaderTest, ErrorsNameTheField) {
  EXPECT_EQ(error_of("models:\n  - {id: a, path: a.gguf}\n  - {id: b, path: b.gguf}\n  - {id: c, "
                     "context: lots}\n"),
            "models[2].context: expected an integer");
  EXPECT_EQ(error_of("server:\n  port: 70000\n"), "server.port: 70000 is outside [0, 65535]");
  EXPECT_EQ(error_of("server:\n  prot: 80\n"), "server.prot: unknown field");
  EXPECT_EQ(error_of("telemetry:\n  access_log: maybe\n"),
            "telemetry.access_log: expected a boolean (true or false)");
  EXPECT_EQ(error_of("models:\n  - {id: a, aliases: b}\n"),
            "models[0].aliases: expected a list of strings");
  EXPECT_EQ(error_of("models:\n  - {id: a, defaults: {temprature: 1}}\n"),
            "models[0].defaults.temprature: unknown field");
  EXPECT_EQ(error_of("models:\n  - {id: a, defaults: {temperature: hot}}\n"),
            "models[0].defaults.temperature: expected a number");
  EXPECT_EQ(error_of("services: {name: vista}\n"), "services: expected a list");
  EXPECT_EQ(error_of("services:\n  - {name: vista, priority: 5000}\n"),
            "services[0].priority: 5000 is outside [-1000, 1000]");
  EXPECT_EQ(error_of("- just\n- a list\n"), "(top level): expected a mapping of fields");
  EXPECT_EQ(error_of("server:\n  host: [a, b]\n"), "server.host: expected a string");
  const std::string syntax = error_of("server:\n  port: 80\n   host: x\n");
  EXPECT_EQ(syntax.rfind("line 3, column", 0), 0u) << syntax;
  EXPECT_EQ(error_of(""), "ok");
}

TEST(ServeConfigLoaderTest, ChecksReferencesAndNames) {
  ServeConfig c;
  ASSERT_TRUE(read(R"(
server: {default_model: nope, kv_restore: true}
models:
  - {id: a, path: /nonexistent/a.gguf, fallbacks: [a, ghost], kind: vision, tool_format: smoke}
  - {id: b, path: /nonexistent/b.gguf, aliases: [a]}
services:
  - {name: vista, default_model: b, allowed_models: [a]}
  - {name: vista, allowed_models: [zzz]}
  - {default_model: a}
)",
                   &c)
                  .ok());
  const ConfigReport r = check_config(c);
  const std::vector<std::string> expected = {
      "server.kv_restore: needs server.kv_dir",
      "models[0].kind: expected one of chat, completion, embedding",
      "models[0].tool_format: unknown tool-call format 'smoke'",
      "models[1].aliases[0]: 'a' is already the name of models[0].id",
      "models[0].fallbacks[0]: a model cannot fall back to itself",
      "models[0].fallbacks[1]: unknown model 'ghost'",
      "server.default_model: unknown model 'nope'",
      "services[0].default_model: 'b' is not among its allowed_models",
      "services[1].name: 'vista' is already the name of services[0]",
      "services[1].allowed_models[0]: unknown model 'zzz'",
      "services[2].name: required",
  };
  EXPECT_EQ(r.errors, expected);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0],
            "models[0].path: no such file or directory '/nonexistent/a.gguf' (loading it will fail)");
}

TEST(ServeConfigLoaderTest, ChecksApiKeys) {
  const std::string hash = "sha256:" + std::string(64, 'a');
  ServeConfig c;
  ASSERT_TRUE(read(R"(
services:
  - {name: vista, key_prefix: Vista}
api_keys:
  - {id: AAAABBBBCCCC, prefix: vista_, hash: )" + hash + R"(, service: vista, expires_at: 2030-01-01T00:00:00Z}
  - {id: short, prefix: vista_, hash: )" + hash + R"(, service: vista}
  - {id: AAAABBBBCCCD, prefix: vista_, hash: md5:00, service: vista}
  - {id: AAAABBBBCCCE, prefix: vista_, hash: )" + hash + R"(, service: vista, scopes: [root]}
  - {id: AAAABBBBCCCF, prefix: vista_, hash: )" + hash + R"(, service: vista, expires_at: soon}
  - {id: AAAABBBBCCCC, prefix: data_, hash: )" + hash + R"(, service: data}
)",
                   &c)
                  .ok());
  const ConfigReport r = check_config(c);
  ASSERT_EQ(r.errors.size(), 6u);
  EXPECT_TRUE(r.errors[0].starts_with("api_keys[1].id: expected the 12 letters and digits")) << r.errors[0];
  EXPECT_TRUE(r.errors[1].starts_with("api_keys[2].hash: expected sha256:")) << r.errors[1];
  EXPECT_EQ(r.errors[2], "api_keys[3].scopes: unknown scope 'root' (scopes: inference, sessions, admin)");
  EXPECT_TRUE(r.errors[3].starts_with("api_keys[4].expires_at: expected an ISO-8601 time")) << r.errors[3];
  EXPECT_EQ(r.errors[4], "api_keys[5].id: 'AAAABBBBCCCC' is also the id of api_keys[0]");
  EXPECT_TRUE(r.errors[5].starts_with("services[0].key_prefix: a key prefix is")) << r.errors[5];
  auto access = make_access_options(c);
  EXPECT_FALSE(access.ok());
  c.api_keys.resize(1);
  c.services.clear();
  ASSERT_TRUE(check_config(c).ok());
  access = make_access_options(c);
  ASSERT_TRUE(access.ok()) << access.status().to_string();
  ASSERT_EQ(access->config_keys.size(), 1u);
  EXPECT_EQ(access->config_keys[0].expires_at, 1893456000);
  EXPECT_TRUE(access_control_enabled(c));
}

TEST(ServeConfigLoaderTest, EnvironmentOverridesTheFile) {
  ServeConfig c;
  ASSERT_TRUE(read("server: {port: 9000, host: 10.0.0.1}\n", &c).ok());
  const std::map<std::string, std::string> env = {{"INFERD_PORT", "9100"},
                                                  {"INFERD_ACCESS_LOG", "off"},
                                                  {"INFERD_ALIAS", "a,b"},
                                                  {"INFERD_UNRELATED", "x"}};
  auto get = [&](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  ASSERT_TRUE(apply_environment(&c, get).ok());
  EXPECT_EQ(c.server.port, 9100);
  EXPECT_EQ(c.server.host, "10.0.0.1");
  EXPECT_FALSE(c.telemetry.access_log);
  EXPECT_EQ(c.single.aliases, (std::vector<std::string>{"a", "b"}));

  const Status bad = apply_environment(&c, [](const char* name) -> const char* {
    return std::string_view(name) == "INFERD_MAX_BODY_MB" ? "-3" : nullptr;
  });
  EXPECT_EQ(bad.message(), "INFERD_MAX_BODY_MB: -3 is outside [1, 4096]");
}

TEST(ServeConfigLoaderTest, EntriesAreOverriddenByEnvironmentAndAssignments) {
  ServeConfig c;
  ASSERT_TRUE(read("models:\n  - {id: qwen2.5-coder, path: /m/a.gguf, context: 4096}\n"
                   "services:\n  - {name: vista, default_model: qwen2.5-coder}\n",
                   &c)
                  .ok());
  const std::map<std::string, std::string> env = {{"INFERD_MODELS_QWEN2_5_CODER_CONTEXT", "8192"},
                                                  {"INFERD_MODELS_QWEN2_5_CODER_DEFAULTS_TOP_K", "20"},
                                                  {"INFERD_SERVICES_VISTA_PRIORITY", "7"}};
  auto get = [&](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  ASSERT_TRUE(apply_environment(&c, get).ok());
  EXPECT_EQ(c.models[0].context, 8192);
  EXPECT_EQ(c.models[0].top_k, 20);
  EXPECT_EQ(c.services[0].priority, 7);
  const Status bad_env = apply_environment(&c, [](const char* name) -> const char* {
    return std::string_view(name) == "INFERD_MODELS_QWEN2_5_CODER_CONTEXT" ? "big" : nullptr;
  });
  EXPECT_EQ(bad_env.message(), "INFERD_MODELS_QWEN2_5_CODER_CONTEXT: expected an integer");

  ASSERT_TRUE(apply_assignment(&c, "models.qwen2.5-coder.keep_alive_s=600").ok());
  ASSERT_TRUE(apply_assignment(&c, "services.vista.allowed_models=qwen2.5-coder,small").ok());
  ASSERT_TRUE(apply_assignment(&c, "server.port=9001").ok());
  EXPECT_EQ(c.models[0].keep_alive_s, 600);
  EXPECT_EQ(c.services[0].allowed_models, (std::vector<std::string>{"qwen2.5-coder", "small"}));
  EXPECT_EQ(c.server.port, 9001);
  EXPECT_EQ(apply_assignment(&c, "models.qwen2.5-coder.context=-1").message(),
            "models.qwen2.5-coder.context: -1 is outside [0, 16777216]");
  EXPECT_NE(apply_assignment(&c, "models.nope.context=1").message().find("names no field"), std::string::npos);
  EXPECT_NE(apply_assignment(&c, "server.port").message().find("expected PATH=VALUE"), std::string::npos);
}

TEST(ServeConfigLoaderTest, FieldTableIsConsistent) {
  std::map<std::string, int> envs, flags, paths;
  for (const auto& f : serve_fields()) {
    ASSERT_NE(f.help, nullptr);
    ASSERT_NE(f.env, nullptr) << (f.path ? f.path
                                         : f.flag);  // every top-level field has a variable...
    ASSERT_NE(f.flag, nullptr) << f.env;             // ...and a flag
    EXPECT_EQ(std::string_view(f.env).rfind("INFERD_", 0), 0u) << f.env;
    EXPECT_EQ(++envs[f.env], 1) << f.env;
    EXPECT_EQ(++flags[f.flag], 1) << f.flag;
    if (f.path) {
      EXPECT_EQ(++paths[f.path], 1) << f.path;
    }
  }
}

// The annotated example passes the check and sets every field of every table.
TEST(ServeConfigLoaderTest, ExampleConfigPassesAndCoversEveryOption) {
  const auto path = inferd::testing::source_dir() / kExample;
  ServeConfig c;
  const Status st = read_config_file(path.string(), &c);
  ASSERT_TRUE(st.ok()) << st.to_string();
  const ConfigReport r = check_config(c);
  EXPECT_TRUE(r.ok()) << r.errors.front();

  const YAML::Node root = YAML::LoadFile(path.string());
  std::function<bool(const YAML::Node&, std::string_view)> lookup =
      [&](const YAML::Node& node, std::string_view dotted) -> bool {
    const size_t dot = dotted.find('.');
    const YAML::Node child = node[std::string(dotted.substr(0, dot))];
    if (!child.IsDefined()) return false;
    return dot == std::string_view::npos || lookup(child, dotted.substr(dot + 1));
  };
  for (const auto& f : serve_fields()) {
    if (f.path) {
      EXPECT_TRUE(lookup(root, f.path)) << "the example does not show " << f.path;
    }
  }
  for (const auto& f : model_fields()) {
    bool shown = false;
    for (const YAML::Node& m : root["models"]) shown = shown || lookup(m, f.path);
    EXPECT_TRUE(shown) << "no model of the example shows " << f.path;
  }
  for (const auto& f : service_fields()) {
    bool shown = false;
    for (const YAML::Node& s : root["services"]) shown = shown || lookup(s, f.path);
    EXPECT_TRUE(shown) << "no service of the example shows " << f.path;
  }
  for (const auto& f : api_key_fields()) {
    bool shown = false;
    for (const YAML::Node& k : root["api_keys"]) shown = shown || lookup(k, f.path);
    EXPECT_TRUE(shown) << "no API key of the example shows " << f.path;
  }
  for (const auto& f : certificate_fields()) {
    bool shown = false;
    for (const YAML::Node& t : root["tls"]["certificates"]) shown = shown || lookup(t, f.path);
    EXPECT_TRUE(shown) << "no certificate of the example shows " << f.path;
  }
  std::vector<std::string> names;
  for (const ServiceSpec& s : c.services) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"vista", "whisp", "fork", "data", "voice", "lbrx"}));
  auto registry = make_registry_config(c);
  ASSERT_TRUE(registry.ok()) << registry.status().to_string();
  EXPECT_EQ(registry->models.size(), c.models.size());
}

}  // namespace
}  // namespace inferd::server

#include "server/config/serve_config_loader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "chat/tool_call_format.h"
#include "server/auth/api_key.h"
#include "server/config/config_field.h"
#include "server/registry/model_directory.h"
#include "server/served_model.h"
#include "server/sessions/iso8601.h"
#include "server/sessions/model_prices.h"

namespace inferd::server {
namespace {

namespace fs = std::filesystem;

std::string join_path(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return fmt::format("{}.{}", prefix, key);
}

Status field_error(std::string_view where, const std::string& message) {
  return invalid_argument("{}: {}", where, message);
}

// Sets one field from a YAML value; `where` is the field's full path for errors.
Status set_from_yaml(const FieldRef& ref, const YAML::Node& value, int64_t min, int64_t max,
                     const std::string& where) {
  if (auto* list = std::get_if<std::vector<std::string>*>(&ref)) {
    if (!value.IsSequence()) return field_error(where, "expected a list of strings");
    (*list)->clear();
    for (size_t i = 0; i < value.size(); ++i) {
      if (!value[i].IsScalar())
        return field_error(fmt::format("{}[{}]", where, i), "expected a string");
      (*list)->push_back(value[i].Scalar());
    }
    return {};
  }
  if (!value.IsScalar())
    return field_error(where, fmt::format("expected {}", field_type_name(ref)));
  Status st = set_field_from_text(ref, value.Scalar(), min, max);
  if (!st.ok()) return field_error(where, st.message());
  return {};
}

// Reads the map `node` into `target` through `fields` (whose paths may be dotted: nested maps).
// `where` prefixes error paths ("models[2]"); keys in `skip` are left to the caller.
template <class T>
Status read_table(const YAML::Node& node, const std::string& where,
                  std::span<const ConfigField<T>> fields, T* target,
                  std::initializer_list<std::string_view> skip = {}) {
  if (!node.IsMap())
    return field_error(where.empty() ? "(top level)" : where, "expected a mapping of fields");
  // Walks the maps; `prefix` is the dotted path inside the table.
  std::function<Status(const YAML::Node&, const std::string&)> walk =
      [&](const YAML::Node& map, const std::string& prefix) -> Status {
    for (const auto& kv : map) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
      const std::string path = join_path(prefix, key);
      const std::string full = join_path(where, path);
      if (prefix.empty() && std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
      const auto row = std::find_if(fields.begin(), fields.end(), [&](const ConfigField<T>& f) {
        return f.path && path == f.path;
      });
      if (row != fields.end()) {
        if (kv.second.IsNull()) continue;  // "key:" with no value keeps the default
        INFERD_RETURN_IF_ERROR(
            set_from_yaml(row->ref(*target), kv.second, row->min, row->max, full));
        continue;
      }
      const bool is_section =
          std::any_of(fields.begin(), fields.end(), [&](const ConfigField<T>& f) {
            return f.path && std::string_view(f.path).starts_with(path + ".");
          });
      if (!is_section) return field_error(full, "unknown field");
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap()) return field_error(full, "expected a mapping of fields");
      INFERD_RETURN_IF_ERROR(walk(kv.second, path));
    }
    return {};
  };
  return walk(node, "");
}

std::string resolve_path(const std::string& base_dir, const std::string& path) {
  if (base_dir.empty() || path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

// The entries of one list section (models by id, services by name, api_keys by id) and their
// field table.
template <class Entry>
struct EntryList {
  const char* section;  // "models", "services", "api_keys"
  std::vector<Entry>* entries;
  std::span<const ConfigField<Entry>> fields;
  std::string (*key)(const Entry&);
};

EntryList<ModelConfig> model_list(ServeConfig* c) {
  return {"models", &c->models, model_fields(), [](const ModelConfig& m) { return m.id; }};
}
EntryList<ServiceSpec> service_list(ServeConfig* c) {
  return {"services", &c->services, service_fields(), [](const ServiceSpec& s) { return s.name; }};
}
EntryList<ApiKeyConfig> api_key_list(ServeConfig* c) {
  return {"api_keys", &c->api_keys, api_key_fields(), [](const ApiKeyConfig& k) { return k.id; }};
}

// Reads the list section `list.section` of `root` when present (replacing its entries).
template <class Entry>
Status read_entries(const YAML::Node& root, const EntryList<Entry>& list) {
  const YAML::Node node = root[list.section];
  if (!node || node.IsNull()) return {};
  if (!node.IsSequence()) return field_error(list.section, "expected a list");
  list.entries->clear();
  for (size_t i = 0; i < node.size(); ++i) {
    Entry e;
    INFERD_RETURN_IF_ERROR(read_table(node[i], fmt::format("{}[{}]", list.section, i), list.fields, &e));
    list.entries->push_back(std::move(e));
  }
  return {};
}

// Reads tls.certificates (a list of tables) and takes it out of `root`, whose other tls fields
// are rows of the top-level table.
Status read_certificates(const YAML::Node& root, const std::string& base_dir, ServeConfig* config) {
  if (!root.IsMap()) return {};
  YAML::Node tls = root["tls"];
  if (!tls || !tls.IsMap()) return {};
  const YAML::Node list = tls["certificates"];
  if (!list) return {};
  if (!list.IsNull()) {
    if (!list.IsSequence()) return field_error("tls.certificates", "expected a list of {cert, key}");
    config->tls.certificates.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      TlsCertificateConfig t;
      INFERD_RETURN_IF_ERROR(read_table(list[i], fmt::format("tls.certificates[{}]", i),
                                        certificate_fields(), &t));
      t.cert = resolve_path(base_dir, t.cert);
      t.key = resolve_path(base_dir, t.key);
      config->tls.certificates.push_back(std::move(t));
    }
  }
  tls.remove("certificates");
  return {};
}

Status read_yaml_node(const YAML::Node& root, const std::string& base_dir, ServeConfig* config) {
  if (root.IsNull()) return {};  // an empty file: every default
  INFERD_RETURN_IF_ERROR(read_certificates(root, base_dir, config));
  INFERD_RETURN_IF_ERROR(read_table(root, "", serve_fields(), config, {"models", "services", "api_keys"}));
  config->tls.client_ca = resolve_path(base_dir, config->tls.client_ca);
  INFERD_RETURN_IF_ERROR(read_entries(root, model_list(config)));
  for (ModelConfig& m : config->models) {
    m.path = resolve_path(base_dir, m.path);
    m.chat_template = resolve_path(base_dir, m.chat_template);
  }
  INFERD_RETURN_IF_ERROR(read_entries(root, service_list(config)));
  INFERD_RETURN_IF_ERROR(read_entries(root, api_key_list(config)));
  config->server.models_dir = resolve_path(base_dir, config->server.models_dir);
  return {};
}

// Every name (id and aliases) of the configured models, with the path of its definition.
std::map<std::string, std::string> model_names(const ServeConfig& c) {
  std::map<std::string, std::string> names;
  for (size_t i = 0; i < c.models.size(); ++i) {
    names.emplace(c.models[i].id, fmt::format("models[{}].id", i));
    for (size_t a = 0; a < c.models[i].aliases.size(); ++a)
      names.emplace(c.models[i].aliases[a], fmt::format("models[{}].aliases[{}]", i, a));
  }
  return names;
}

// "NAME=VALUE" split at its first '=' (VALUE may hold more); no '=': the whole text is NAME.
std::pair<std::string, std::string> split_at_equals(const std::string& entry) {
  const size_t eq = entry.find('=');
  if (eq == std::string::npos) return {entry, ""};
  return {entry.substr(0, eq), entry.substr(eq + 1)};
}

// api_keys[i] as the access control's record; errors name the field under `at`.
Result<auth::ApiKeyRecord> to_key_record(const ApiKeyConfig& k, const std::string& at) {
  auth::ApiKeyRecord r;
  r.id = k.id;
  r.prefix = k.prefix;
  r.hash = k.hash;
  r.service = k.service;
  r.name = k.name;
  r.limits = {k.requests_per_minute, k.tokens_per_minute, k.concurrent};
  r.from_config = true;
  const std::string probe = k.prefix + k.id + "_" + std::string(auth::kKeySecretChars, 'a');
  if (!auth::parse_api_key(probe))
    return invalid_argument("{}.id: expected the {} letters and digits after the key's prefix, with a valid prefix "
                            "(e.g. prefix: vista_)", at, auth::kKeyIdChars);
  if (Status st = auth::check_key_hash(k.hash); !st.ok()) return invalid_argument("{}.hash: {}", at, st.message());
  if (k.service.empty()) return invalid_argument("{}.service: required", at);
  auto scopes = auth::ScopeSet::parse(k.scopes);
  if (!scopes.ok()) return invalid_argument("{}.scopes: {}", at, scopes.status().message());
  if (scopes->empty()) return invalid_argument("{}.scopes: a key needs at least one scope", at);
  r.scopes = *scopes;
  if (!k.expires_at.empty()) {
    const auto ms = sessions::parse_iso8601(k.expires_at);
    if (!ms) return invalid_argument("{}.expires_at: expected an ISO-8601 time such as 2027-01-31T00:00:00Z", at);
    r.expires_at = *ms / 1000;
  }
  return r;
}

Result<ModelSpec> to_model_spec(const ModelConfig& m) {
  ModelSpec s;
  s.load.id = m.id;
  s.load.path = m.path;
  s.load.aliases = m.aliases;
  s.load.chat_template_file = m.chat_template;
  s.load.output_format = m.tool_format;
  s.load.parse_reasoning = m.reasoning;
  s.load.system_prompt = m.system_prompt;
  s.load.engine.ctx_per_slot = m.context;
  s.load.engine.max_slots = static_cast<int>(m.max_concurrent);
  s.load.engine.max_waiting = static_cast<int>(m.max_queue);
  s.load.engine.kv_budget_bytes = m.kv_budget_mb << 20;
  s.load.engine.num_threads = static_cast<int>(m.threads);
  s.load.engine.max_batch_tokens = std::max<int64_t>(512, m.max_concurrent);
  const std::pair<const char*, std::optional<double>> reals[] = {
      {"temperature", m.temperature},
      {"top_p", m.top_p},
      {"min_p", m.min_p},
      {"presence_penalty", m.presence_penalty},
      {"frequency_penalty", m.frequency_penalty},
      {"repetition_penalty", m.repetition_penalty}};
  for (const auto& [key, value] : reals)
    if (value) s.load.request_defaults[key] = *value;
  if (m.top_k) s.load.request_defaults["top_k"] = *m.top_k;
  if (m.max_tokens) s.load.request_defaults["max_tokens"] = *m.max_tokens;
  const auto kind = model_kind_from_name(m.kind);
  if (!kind) return invalid_argument("expected one of chat, completion, embedding");
  s.kind = *kind;
  s.keep_alive = std::chrono::seconds(m.keep_alive_s);
  s.pinned = m.pinned;
  s.preload = m.preload;
  s.fallbacks = m.fallbacks;
  return s;
}

}  // namespace

Status read_config_yaml(std::string_view text, const std::string& base_dir, ServeConfig* config) {
  try {
    return read_yaml_node(YAML::Load(std::string(text)), base_dir, config);
  } catch (const YAML::Exception& e) {
    return invalid_argument("line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg);
  }
}

Status read_config_file(const std::string& path, ServeConfig* config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot read the configuration file {}", path);
  std::stringstream text;
  text << in.rdbuf();
  Status st = read_config_yaml(text.str(), fs::path(path).parent_path().string(), config);
  if (!st.ok()) return Status(st.code(), fmt::format("{}: {}", path, st.message()));
  return {};
}

namespace {

// "general", "defaults.top_k" -> "GENERAL", "DEFAULTS_TOP_K".
std::string env_token(std::string_view s) {
  std::string out;
  for (char ch : s) out.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::toupper(ch)) : '_');
  return out;
}

template <class Entry>
Status apply_entry_environment(const EntryList<Entry>& list, const std::function<const char*(const char*)>& get_env) {
  for (Entry& e : *list.entries)
    for (const ConfigField<Entry>& f : list.fields) {
      const std::string name = "INFERD_" + env_token(list.section) + "_" + env_token(list.key(e)) + "_" + env_token(f.path);
      const char* value = get_env(name.c_str());
      if (!value) continue;
      if (Status st = set_field_from_text(f.ref(e), value, f.min, f.max); !st.ok())
        return invalid_argument("{}: {}", name, st.message());
    }
  return {};
}

// Applies `path`=`value` when `path` names a field of an entry of `list`; false when it does not.
template <class Entry>
Result<bool> assign_entry_field(const EntryList<Entry>& list, std::string_view path, std::string_view value) {
  for (Entry& e : *list.entries)
    for (const ConfigField<Entry>& f : list.fields)
      if (path == fmt::format("{}.{}.{}", list.section, list.key(e), f.path)) {
        if (Status st = set_field_from_text(f.ref(e), value, f.min, f.max); !st.ok())
          return invalid_argument("{}: {}", path, st.message());
        return true;
      }
  return false;
}

}  // namespace

Status apply_environment(ServeConfig* config,
                         const std::function<const char*(const char*)>& get_env) {
  for (const ConfigField<ServeConfig>& f : serve_fields()) {
    if (!f.env) continue;
    const char* value = get_env(f.env);
    if (!value) continue;
    if (Status st = set_field_from_text(f.ref(*config), value, f.min, f.max); !st.ok())
      return invalid_argument("{}: {}", f.env, st.message());
  }
  INFERD_RETURN_IF_ERROR(apply_entry_environment(model_list(config), get_env));
  INFERD_RETURN_IF_ERROR(apply_entry_environment(service_list(config), get_env));
  return apply_entry_environment(api_key_list(config), get_env);
}

Status apply_assignment(ServeConfig* config, std::string_view assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return invalid_argument("'{}': expected PATH=VALUE, e.g. models.general.context=8192", assignment);
  const std::string_view path = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  for (const ConfigField<ServeConfig>& f : serve_fields())
    if (f.path && path == f.path) {
      if (Status st = set_field_from_text(f.ref(*config), value, f.min, f.max); !st.ok())
        return invalid_argument("{}: {}", path, st.message());
      return {};
    }
  INFERD_ASSIGN_OR_RETURN(bool done, assign_entry_field(model_list(config), path, value));
  if (done) return {};
  INFERD_ASSIGN_OR_RETURN(done, assign_entry_field(service_list(config), path, value));
  if (done) return {};
  INFERD_ASSIGN_OR_RETURN(done, assign_entry_field(api_key_list(config), path, value));
  if (done) return {};
  return invalid_argument("'{}' names no field of the configuration (models and services by id or name, e.g. "
                          "models.general.context)", path);
}

bool uses_registry(const ServeConfig& c) {
  return !c.models.empty() || !c.server.models_dir.empty();
}

namespace {

// "*" or scheme://host[:port] (no path, query or user info).
bool is_cors_origin(std::string_view o) {
  if (o == "*") return true;
  const size_t sep = o.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  const std::string_view rest = o.substr(sep + 3);
  return !rest.empty() && rest.find_first_of("/?#@ ") == std::string_view::npos;
}

template <class Error, class Warn>
void check_tls(const ServeConfig& c, const Error& error, const Warn& warn) {
  const TlsSettings& t = c.tls;
  std::error_code ec;
  if (!client_cert_mode_from_name(t.client_certs))
    error("tls.client_certs", "expected none, optional or required");
  if (t.cert_files.size() != t.key_files.size())
    error("--tls-cert", fmt::format("{} certificates but {} keys (--tls-key)", t.cert_files.size(),
                                    t.key_files.size()));
  const TlsOptions o = make_tls_options(c);
  const bool from_flags = !t.cert_files.empty();
  for (size_t i = 0; i < o.certificates.size(); ++i) {
    const auto& pair = o.certificates[i];
    const std::string at = from_flags ? fmt::format("--tls-cert[{}]", i) : fmt::format("tls.certificates[{}]", i);
    if (pair.cert_file.empty()) error(at + ".cert", "required");
    else if (!fs::is_regular_file(pair.cert_file, ec))
      warn(at + ".cert", fmt::format("no such file '{}' (serving will fail)", pair.cert_file));
    if (pair.key_file.empty()) error(at + ".key", "required");
    else if (!fs::is_regular_file(pair.key_file, ec))
      warn(at + ".key", fmt::format("no such file '{}' (serving will fail)", pair.key_file));
  }
  if (o.client_certs != ClientCertMode::kNone && t.client_ca.empty())
    error("tls.client_certs", "needs tls.client_ca");
  if (!t.client_ca.empty() && !fs::is_regular_file(t.client_ca, ec))
    warn("tls.client_ca", fmt::format("no such file '{}' (serving will fail)", t.client_ca));
  if (t.redirect_port != 0 && o.certificates.empty())
    error("tls.redirect_port", "needs a certificate (tls.certificates or --tls-cert)");
  if (t.redirect_port != 0 && t.redirect_port == c.server.port)
    error("tls.redirect_port", "must differ from server.port");
}

}  // namespace

TlsOptions make_tls_options(const ServeConfig& c) {
  TlsOptions o;
  if (!c.tls.cert_files.empty()) {
    for (size_t i = 0; i < c.tls.cert_files.size(); ++i)
      o.certificates.push_back({c.tls.cert_files[i], i < c.tls.key_files.size() ? c.tls.key_files[i] : ""});
  } else {
    for (const TlsCertificateConfig& t : c.tls.certificates) o.certificates.push_back({t.cert, t.key});
  }
  o.client_ca_file = c.tls.client_ca;
  o.client_certs = client_cert_mode_from_name(c.tls.client_certs).value_or(ClientCertMode::kNone);
  o.redirect_port = static_cast<uint16_t>(c.tls.redirect_port);
  o.hsts_max_age_s = c.tls.hsts_max_age_s;
  return o;
}

ConfigReport check_config(const ServeConfig& c) {
  ConfigReport r;
  auto error = [&r](std::string where, std::string message) {
    r.errors.push_back(where + ": " + message);
  };
  auto warn = [&r](std::string where, std::string message) {
    r.warnings.push_back(where + ": " + message);
  };
  std::error_code ec;

  if (c.server.api_prefix == "/v1")
    error("server.api_prefix", "must differ from /v1");
  else if (!c.server.api_prefix.empty() && c.server.api_prefix.front() != '/')
    error("server.api_prefix", "must start with '/'");
  if (c.server.kv_restore && c.server.kv_dir.empty())
    error("server.kv_restore", "needs server.kv_dir");
  if (!(c.server.kv_persist_idle_s >= 0))
    error("server.kv_persist_idle_s", "must not be negative");
  else if (c.server.kv_persist_idle_s > 0 && c.server.kv_dir.empty())
    error("server.kv_persist_idle_s", "needs server.kv_dir");
  if (!parse_kv_cache_type(c.single.kv_type)) error("--kv-type", "expected f16 or q8_0");
  std::map<std::string, sessions::ModelPrice> prices;
  if (Status st = sessions::parse_model_prices(c.sessions.prices, &prices); !st.ok())
    error("sessions.prices", std::string(st.message()));
  if (c.sessions.ttl_s > c.sessions.max_ttl_s) error("sessions.ttl_s", "must not exceed sessions.max_ttl_s");
  for (size_t i = 0; i < c.audit.mask_patterns.size(); ++i)
    if (c.audit.mask_patterns[i].find('=') == std::string::npos)
      error(fmt::format("audit.mask_patterns[{}]", i), "expected NAME=REGEX");
  if (!c.audit.path.empty() && r.errors.empty())
    if (auto masker = PiiMasker::create(make_audit_options(c).masking); !masker.ok())
      error("audit", std::string(masker.status().message()));
  for (const auto& [list, field, what] : {std::tuple{&c.auth.client_cert_services, "auth.client_cert_services", "SERVICE=SUBJECT"},
                                          std::tuple{&c.auth.oidc_services, "auth.oidc.services", "CLAIM_VALUE=SERVICE"}})
    for (size_t i = 0; i < list->size(); ++i) {
      const auto [name, value] = split_at_equals((*list)[i]);
      if (name.empty() || value.empty()) error(fmt::format("{}[{}]", field, i), fmt::format("expected {}", what));
    }
  if (!c.auth.oidc_issuer.empty() && c.auth.oidc_audiences.empty())
    error("auth.oidc.audiences", "an OIDC issuer needs at least one audience");
  if (!c.auth.client_cert_services.empty() && c.tls.client_ca.empty())
    error("auth.client_cert_services", "needs tls.client_ca (client certificates are verified against it)");
  std::map<std::string, std::string> key_ids;  // id -> where defined
  for (size_t i = 0; i < c.api_keys.size(); ++i) {
    const std::string at = fmt::format("api_keys[{}]", i);
    if (auto k = to_key_record(c.api_keys[i], at); !k.ok()) r.errors.emplace_back(k.status().message());
    if (auto [it, fresh] = key_ids.emplace(c.api_keys[i].id, at); !fresh)
      error(at + ".id", fmt::format("'{}' is also the id of {}", c.api_keys[i].id, it->second));
  }
  if (!c.server.models_dir.empty() && !fs::is_directory(c.server.models_dir, ec))
    error("server.models_dir", fmt::format("'{}' is not a directory", c.server.models_dir));
  if (!c.single.path.empty() && uses_registry(c))
    error("--model",
          "serves one model alone; it cannot be combined with models or models_dir in the "
          "configuration");

  std::map<std::string, std::string> seen;  // name -> where defined
  for (size_t i = 0; i < c.models.size(); ++i) {
    const ModelConfig& m = c.models[i];
    const std::string at = fmt::format("models[{}]", i);
    if (m.id.empty()) error(at + ".id", "required");
    if (m.path.empty())
      error(at + ".path", "required");
    else if (!fs::is_regular_file(m.path, ec) && !fs::is_directory(m.path, ec))
      warn(at + ".path", fmt::format("no such file or directory '{}' (loading it will fail)", m.path));
    if (!model_kind_from_name(m.kind))
      error(at + ".kind", "expected one of chat, completion, embedding");
    if (!parse_kv_cache_type(m.kv_type)) error(at + ".kv_type", "expected f16 or q8_0");
    if (!m.tool_format.empty() && !chat::output_format_from_name(m.tool_format))
      error(at + ".tool_format", fmt::format("unknown tool-call format '{}'", m.tool_format));
    if (!m.chat_template.empty() && !fs::is_regular_file(m.chat_template, ec))
      warn(at + ".chat_template",
           fmt::format("no such file '{}' (loading the model will fail)", m.chat_template));
    std::vector<std::pair<std::string, std::string>> names = {{m.id, at + ".id"}};
    for (size_t a = 0; a < m.aliases.size(); ++a)
      names.emplace_back(m.aliases[a], fmt::format("{}.aliases[{}]", at, a));
    for (const auto& [name, where] : names) {
      if (name.empty()) continue;
      const auto [it, fresh] = seen.emplace(name, where);
      if (!fresh) error(where, fmt::format("'{}' is already the name of {}", name, it->second));
    }
  }
  const auto names = model_names(c);
  auto known = [&](const std::string& name) { return names.count(name) > 0; };
  for (size_t i = 0; i < c.models.size(); ++i)
    for (size_t f = 0; f < c.models[i].fallbacks.size(); ++f) {
      const std::string& name = c.models[i].fallbacks[f];
      const std::string where = fmt::format("models[{}].fallbacks[{}]", i, f);
      if (!known(name))
        error(where, fmt::format("unknown model '{}'", name));
      else if (names.at(name).starts_with(fmt::format("models[{}].", i)))
        error(where, "a model cannot fall back to itself");
    }
  const bool only_dir =
      c.models.empty();  // models come from models_dir: names known only when serving
  if (!c.server.default_model.empty() && !only_dir && !known(c.server.default_model))
    error("server.default_model", fmt::format("unknown model '{}'", c.server.default_model));
  if (!c.sessions.summary_model.empty() && !only_dir &&
      !known(c.sessions.summary_model))
    error("sessions.summary_model", fmt::format("unknown model '{}'", c.sessions.summary_model));

  std::map<std::string, size_t> services;
  for (size_t i = 0; i < c.services.size(); ++i) {
    const ServiceSpec& s = c.services[i];
    const std::string at = fmt::format("services[{}]", i);
    if (s.name.empty())
      error(at + ".name", "required");
    else if (const auto [it, fresh] = services.emplace(s.name, i); !fresh)
      error(at + ".name",
            fmt::format("'{}' is already the name of services[{}]", s.name, it->second));
    if (!s.default_model.empty() && !only_dir && !known(s.default_model))
      error(at + ".default_model", fmt::format("unknown model '{}'", s.default_model));
    if (!s.key_prefix.empty())
      if (Status st = auth::check_key_prefix(s.key_prefix); !st.ok()) error(at + ".key_prefix", std::string(st.message()));
    for (size_t a = 0; a < s.allowed_models.size(); ++a)
      if (!only_dir && !known(s.allowed_models[a]))
        error(fmt::format("{}.allowed_models[{}]", at, a),
              fmt::format("unknown model '{}'", s.allowed_models[a]));
    if (!s.default_model.empty() && !s.allowed_models.empty() && !only_dir &&
        known(s.default_model)) {
      const std::string& def_at = names.at(s.default_model);
      const bool allowed =
          std::any_of(s.allowed_models.begin(), s.allowed_models.end(), [&](const std::string& a) {
            return known(a) && names.at(a).substr(0, names.at(a).find('.')) ==
                                   def_at.substr(0, def_at.find('.'));
          });
      if (!allowed)
        error(at + ".default_model",
              fmt::format("'{}' is not among its allowed_models", s.default_model));
    }
  }
  check_tls(c, error, warn);
  for (size_t i = 0; i < c.server.cors_origins.size(); ++i)
    if (!is_cors_origin(c.server.cors_origins[i]))
      error(fmt::format("server.cors_origins[{}]", i),
            fmt::format("'{}' is not an origin: expected SCHEME://HOST[:PORT] or '*'", c.server.cors_origins[i]));
  if (c.services.size() > 0 && !uses_registry(c) && c.single.path.empty())
    warn("services", "no models are configured; every service uses the built-in demo model");
  return r;
}

Result<RegistryConfig> make_registry_config(const ServeConfig& c) {
  RegistryConfig out;
  out.options.memory_budget_bytes = static_cast<uint64_t>(c.server.memory_budget_mb) << 20;
  out.default_model = c.server.default_model;
  std::map<std::string, std::string> names = model_names(c);
  std::vector<std::string> paths;
  for (size_t i = 0; i < c.models.size(); ++i) {
    auto spec = to_model_spec(c.models[i]);
    if (!spec.ok()) return invalid_argument("models[{}].kind: {}", i, spec.status().message());
    apply_kv_settings(c, spec->load.id, c.models[i].kv_type, &spec->load.engine);
    paths.push_back(fs::weakly_canonical(c.models[i].path).string());
    out.models.push_back(std::move(spec).value());
  }
  if (!c.server.models_dir.empty()) {
    INFERD_ASSIGN_OR_RETURN(auto found, scan_models_dir(c.server.models_dir));
    for (const FoundModel& f : found) {
      if (!f.error.empty()) continue;
      if (std::find(paths.begin(), paths.end(), fs::weakly_canonical(f.path).string()) !=
          paths.end())
        continue;
      ModelConfig m;
      m.id = default_model_id(f.path);
      m.path = f.path;
      if (!names.emplace(m.id, f.path).second) continue;  // a configured model has that name
      INFERD_ASSIGN_OR_RETURN(ModelSpec spec, to_model_spec(m));
      apply_kv_settings(c, spec.load.id, m.kv_type, &spec.load.engine);
      out.models.push_back(std::move(spec));
    }
  }
  for (const ServiceSpec& s : c.services) INFERD_RETURN_IF_ERROR(out.services.add(s));
  return out;
}

bool access_control_enabled(const ServeConfig& c) {
  return c.auth.required || !c.auth.keys_store.empty() || !c.api_keys.empty() || !c.auth.oidc_issuer.empty() ||
         !c.auth.client_cert_services.empty();
}

Result<auth::AccessOptions> make_access_options(const ServeConfig& c) {
  auth::AccessOptions o;
  o.public_paths = c.auth.public_paths;
  for (const ServiceSpec& s : c.services) {
    if (!s.key_prefix.empty()) o.key_prefixes[s.name] = s.key_prefix;
    o.service_limits[s.name] = {s.requests_per_minute, s.tokens_per_minute, s.concurrent};
  }
  ratelimit::RateLimiterOptions limits;
  limits.redis_url = c.auth.rate_limit_store;
  auto limiter = ratelimit::RateLimiter::create(limits);
  if (!limiter.ok()) return Status(limiter.status().code(), fmt::format("auth.rate_limit_store: {}", limiter.status().message()));
  o.limiter = std::move(limiter).value();
  for (const std::string& entry : c.auth.client_cert_services) {
    auto [service, subject] = split_at_equals(entry);
    o.client_certs.push_back({std::move(subject), std::move(service)});
  }
  if (!c.auth.oidc_issuer.empty()) {
    auth::OidcOptions oidc;
    oidc.issuer = c.auth.oidc_issuer;
    oidc.jwks_uri = c.auth.oidc_jwks_uri;
    oidc.audiences = c.auth.oidc_audiences;
    oidc.service_claim = c.auth.oidc_service_claim;
    oidc.scope_claim = c.auth.oidc_scope_claim;
    oidc.scope_prefix = c.auth.oidc_scope_prefix;
    for (const std::string& entry : c.auth.oidc_services) {
      auto [claim_value, service] = split_at_equals(entry);
      oidc.services[claim_value] = std::move(service);
    }
    auto verifier = auth::OidcVerifier::create(std::move(oidc));
    if (!verifier.ok()) return Status(verifier.status().code(), fmt::format("auth.oidc: {}", verifier.status().message()));
    o.oidc = std::move(verifier).value();
  }
  for (size_t i = 0; i < c.api_keys.size(); ++i) {
    INFERD_ASSIGN_OR_RETURN(auth::ApiKeyRecord k, to_key_record(c.api_keys[i], fmt::format("api_keys[{}]", i)));
    o.config_keys.push_back(std::move(k));
  }
  if (!c.auth.keys_store.empty()) {
    auto store = auth::ApiKeyStore::open(c.auth.keys_store);
    if (!store.ok()) return Status(store.status().code(), fmt::format("auth.keys_store: {}", store.status().message()));
    o.key_store = std::move(store).value();
  }
  return o;
}

sessions::SessionOptions make_session_options(const ServeConfig& c) {
  sessions::SessionOptions o;
  o.store_url = c.sessions.store;
  o.default_ttl_s = c.sessions.ttl_s;
  o.max_ttl_s = c.sessions.max_ttl_s;
  o.sweep_interval_s = c.sessions.sweep_interval_s;
  o.max_messages = c.sessions.max_messages;
  o.summary_model = c.sessions.summary_model;
  o.summary_max_tokens = c.sessions.summary_max_tokens;
  (void)sessions::parse_model_prices(c.sessions.prices, &o.prices);  // checked by check_config
  return o;
}

AuditLogOptions make_audit_options(const ServeConfig& c) {
  AuditLogOptions o;
  o.path = c.audit.path;
  o.max_bytes = static_cast<size_t>(c.audit.max_mb) << 20;
  o.max_files = static_cast<size_t>(c.audit.files);
  o.body_services = c.audit.bodies;
  for (const std::string& p : c.audit.mask_patterns) {
    const size_t eq = p.find('=');
    if (eq != std::string::npos) o.masking.extra.push_back({p.substr(0, eq), p.substr(eq + 1)});
  }
  return o;
}

void apply_kv_settings(const ServeConfig& c, const std::string& model_id, const std::string& kv_type,
                       EngineOptions* engine) {
  engine->kv_type = parse_kv_cache_type(kv_type).value_or(KvCacheType::kF16);
  if (c.server.kv_persist_idle_s > 0 && !c.server.kv_dir.empty()) {
    engine->kv_persist_dir = (fs::path(c.server.kv_dir) / model_id).string();
    engine->kv_persist_idle_s = c.server.kv_persist_idle_s;
  }
}

}  // namespace inferd::server

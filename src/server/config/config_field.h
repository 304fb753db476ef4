// ConfigField: one configurable field: where it lives in the YAML file, its INFERD_*
// environment variable and command-line flag (for top-level fields), its help text and how to
// reach it in the configuration struct. The tables of fields (config_fields.cpp) are the one
// place a configuration option is declared; the YAML reader, the environment, the command line,
// `inferd config check` and the example config's test all work from them.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "server/config/serve_config.h"

namespace inferd::server {

// A pointer to the field a row sets.
using FieldRef = std::variant<std::string*, int64_t*, double*, bool*, std::vector<std::string>*,
                              std::optional<int64_t>*, std::optional<double>*>;

template <class Target>
struct ConfigField {
  const char* path;  // in YAML, relative to the table's root ("server.port", "defaults.top_k")
  const char* env;   // environment variable, or nullptr
  const char* flag;  // CLI11 option names ("-t,--threads"), or nullptr; a bool's flag takes no
                     // value and sets false when its long name starts with "--no-", else true
  const char* help;
  FieldRef (*ref)(Target&);
  int64_t min = std::numeric_limits<int64_t>::min();  // integers only
  int64_t max = std::numeric_limits<int64_t>::max();
};

// Top-level fields: server, telemetry and the single-model options.
std::span<const ConfigField<ServeConfig>> serve_fields();
// Fields of each models[i], services[i], api_keys[i] and tls.certificates[i] entry.
std::span<const ConfigField<ModelConfig>> model_fields();
std::span<const ConfigField<ServiceSpec>> service_fields();
std::span<const ConfigField<ApiKeyConfig>> api_key_fields();
std::span<const ConfigField<TlsCertificateConfig>> certificate_fields();

// The type of a field, as error messages and help name it ("an integer", "a list of strings").
std::string_view field_type_name(const FieldRef& ref);

// Sets a field from text (an environment variable or a flag's value): integers in decimal,
// booleans as true/false/1/0/yes/no/on/off, lists comma-separated. Errors (kInvalidArgument)
// give the expected type or the allowed range; the caller prefixes the field's name.
Status set_field_from_text(const FieldRef& ref, std::string_view text, int64_t min, int64_t max);

// The field's current value as text (for help and the example check).
std::string field_to_text(const FieldRef& ref);

}  // namespace inferd::server

// ConfigFlags: the command-line flags of `inferd serve`, one per row of the configuration field
// table that has a flag (help text, default and INFERD_* variable from the row).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "server/config/serve_config.h"

namespace inferd::cli {

class ConfigFlags {
 public:
  // Adds the flags to `cmd`; the object must live until apply().
  explicit ConfigFlags(CLI::App& cmd);
  // Sets every field whose flag was given (after parsing). Errors name the flag.
  Status apply(server::ServeConfig* config) const;

 private:
  struct Value {
    CLI::Option* option = nullptr;
    std::string text;
    std::vector<std::string> list;
    bool set = false;  // a boolean flag was given
  };
  std::vector<Value> values_;  // per row of server::serve_fields()
};

}  // namespace inferd::cli

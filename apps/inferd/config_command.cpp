// inferd config check FILE: reads a configuration file as `inferd serve --config FILE` would
// (without the environment and flags) and reports every problem with the path of the field,
// e.g. "models[2].context: expected an integer". Exit status 0 when it can be served (warnings
// such as missing model files are printed), 1 otherwise.
#include <cstdio>

#include "commands.h"
#include "server/config/serve_config_loader.h"

namespace inferd::cli {
namespace {

int check(const std::string& path) {
  server::ServeConfig c;
  if (Status st = server::read_config_file(path, &c); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  const server::ConfigReport report = server::check_config(c);
  for (const std::string& w : report.warnings)
    std::fprintf(stderr, "%s: warning: %s\n", path.c_str(), w.c_str());
  for (const std::string& e : report.errors)
    std::fprintf(stderr, "%s: %s\n", path.c_str(), e.c_str());
  if (!report.ok()) return 1;
  std::printf("%s: ok (%zu models, %zu services%s)\n", path.c_str(), c.models.size(),
              c.services.size(),
              c.server.models_dir.empty() ? "" : ", plus the models of models_dir");
  return 0;
}

}  // namespace

Command add_config_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("config", "Check configuration files");
  cmd->require_subcommand(1);
  auto* check_cmd =
      cmd->add_subcommand("check", "Validate a configuration file; errors name the bad field");
  auto path = std::make_shared<std::string>();
  check_cmd->add_option("file", *path, "YAML configuration file")->required();
  return {cmd, [path] { return check(*path); }};
}

}  // namespace inferd::cli

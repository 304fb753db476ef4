// Subcommands of the inferd binary: each registers itself on the CLI and returns how to run it.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace inferd::cli {

struct Command {
  CLI::App* app;             // the parsed subcommand
  std::function<int()> run;  // returns the exit status
  const char* log_level = "warn";  // unless --log-level or INFERD_LOG_LEVEL says otherwise
};

Command add_run_command(CLI::App& app);
Command add_synth_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_serve_command(CLI::App& app);
Command add_config_command(CLI::App& app);
Command add_models_command(CLI::App& app);

}  // namespace inferd::cli

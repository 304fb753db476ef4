// Subcommands of the inferd binary: each registers itself on the CLI and returns how to run it.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "inferd/engine.h"

namespace inferd::cli {

struct Command {
  CLI::App* app;             // the parsed subcommand
  std::function<int()> run;  // returns the exit status
  const char* log_level = "warn";  // unless --log-level or INFERD_LOG_LEVEL says otherwise
};

// Adds --kv-type (f16 or q8_0) to `cmd`, parsed into `type`.
inline CLI::Option* add_kv_type_option(CLI::App* cmd, KvCacheType& type) {
  return cmd
      ->add_option_function<std::string>(
          "--kv-type", [&type](const std::string& name) { type = *parse_kv_cache_type(name); },
          "KV cache element type: f16, or q8_0 (1.9x the positions in the same memory)")
      ->check(CLI::IsMember({kv_cache_type_name(KvCacheType::kF16), kv_cache_type_name(KvCacheType::kQ8_0)}))
      ->default_str(kv_cache_type_name(type));
}

Command add_run_command(CLI::App& app);
Command add_synth_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_serve_command(CLI::App& app);
Command add_quantize_command(CLI::App& app);
Command add_audit_command(CLI::App& app);
Command add_sessions_command(CLI::App& app);
Command add_config_command(CLI::App& app);
Command add_models_command(CLI::App& app);
Command add_keys_command(CLI::App& app);

}  // namespace inferd::cli

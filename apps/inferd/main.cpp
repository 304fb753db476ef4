// inferd: one binary, subcommands (DESIGN.md section 2). Output meant for the user goes to
// stdout; diagnostics and logs go to stderr.
#include <cstdio>
#include <cstdlib>

#include "base/log.h"
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"inferd: LLM inference engine and OpenAI-compatible server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "inferd 0.1.0");
  std::string log_level;
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off (default: info for serve, else warn)");
  std::string log_format = "text";
  app.add_option("--log-format", log_format, "Log lines as text or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  inferd::LogFileOptions log_file;
  app.add_option("--log-file", log_file.path, "Also write log lines to this file, rotated by size");
  size_t log_file_mb = 64;
  app.add_option("--log-file-max-mb", log_file_mb, "Rotate the log file at this size (MiB)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--log-files", log_file.max_files, "Rotated log files kept")->capture_default_str()
      ->check(CLI::Range(1, 1000));

  const inferd::cli::Command commands[] = {
      inferd::cli::add_run_command(app),
      inferd::cli::add_synth_command(app),
      inferd::cli::add_bench_command(app),
      inferd::cli::add_serve_command(app),
      inferd::cli::add_quantize_command(app),
      inferd::cli::add_audit_command(app),
      inferd::cli::add_sessions_command(app),
      inferd::cli::add_config_command(app),
      inferd::cli::add_models_command(app),
      inferd::cli::add_keys_command(app),
  };
  CLI11_PARSE(app, argc, argv);
  for (const auto& c : commands) {
    if (!c.app->parsed()) continue;
    const char* level = !log_level.empty() ? log_level.c_str() : std::getenv("INFERD_LOG_LEVEL") ? nullptr : c.log_level;
    inferd::LogFormat format = inferd::LogFormat::kText;
    inferd::parse_log_format(log_format, &format);
    log_file.max_bytes = log_file_mb << 20;
    std::string error;
    if (!inferd::init_logging(level, format, log_file, &error)) {
      std::fprintf(stderr, "inferd: cannot open the log file %s: %s\n", log_file.path.c_str(), error.c_str());
      return 2;
    }
    return c.run();
  }
  return 1;
}

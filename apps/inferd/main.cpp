// inferd: one binary, subcommands (DESIGN.md section 2). Output meant for the user goes to
// stdout; diagnostics and logs go to stderr.
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

  const inferd::cli::Command commands[] = {
      inferd::cli::add_run_command(app),
      inferd::cli::add_synth_command(app),
      inferd::cli::add_bench_command(app),
      inferd::cli::add_serve_command(app),
  };
  CLI11_PARSE(app, argc, argv);
  for (const auto& c : commands) {
    if (!c.app->parsed()) continue;
    const char* level = !log_level.empty() ? log_level.c_str() : std::getenv("INFERD_LOG_LEVEL") ? nullptr : c.log_level;
    inferd::LogFormat format = inferd::LogFormat::kText;
    inferd::parse_log_format(log_format, &format);
    inferd::init_logging(level, format);
    return c.run();
  }
  return 1;
}

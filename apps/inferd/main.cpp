// inferd: one binary, subcommands (DESIGN.md section 2). Output meant for the user goes to
// stdout; diagnostics and logs go to stderr.
#include "base/log.h"
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"inferd: LLM inference engine and OpenAI-compatible server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "inferd 0.1.0");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")->capture_default_str();

  const inferd::cli::Command commands[] = {
      inferd::cli::add_run_command(app),
      inferd::cli::add_synth_command(app),
      inferd::cli::add_bench_command(app),
  };
  CLI11_PARSE(app, argc, argv);
  inferd::init_logging(log_level.c_str());
  for (const auto& c : commands)
    if (c.app->parsed()) return c.run();
  return 1;
}

// Runs a program with arguments (no shell) and captures its output, for tests of the CLI.
#pragma once

#include <string>
#include <vector>

namespace inferd::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when the program could not be started or was killed
  std::string out;
  std::string err;
};

ProcessResult run_process(const std::vector<std::string>& argv);

// A program running in the background with stdout and stderr sent to a file, for tests of
// servers. The destructor kills it (SIGKILL) if it still runs.
class ChildProcess {
 public:
  // Starts argv; output goes to `log_path`. started() is false when it could not start.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  void signal(int sig);
  // The exit code once it exits within `timeout_ms`; -1 when it was killed by a signal,
  // -2 when it is still running.
  int wait(int timeout_ms);
  // What the program has written so far.
  std::string log() const;

 private:
  int pid_ = -1;
  std::string log_path_;
};

// Path of the inferd binary built with the tests.
std::string inferd_binary();

}  // namespace inferd::testing

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

// Path of the inferd binary built with the tests.
std::string inferd_binary();

}  // namespace inferd::testing

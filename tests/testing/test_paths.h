// Paths to test data. The shared fixtures live beside the repository in ../shared
// (override with INFERD_SHARED_DIR). Tests that need them skip with a clear message when absent;
// .ci/run refuses to run without them.
#pragma once

#include <filesystem>
#include <string>

namespace inferd::testing {

// Root of the shared test data (../shared relative to the source tree, or $INFERD_SHARED_DIR).
std::filesystem::path shared_dir();
// Path of a file below shared_dir(); empty when shared_dir() does not exist.
std::filesystem::path shared_path(const std::string& relative);
// Root of the source tree.
std::filesystem::path source_dir();
// A fresh, empty temporary directory unique to the calling test.
std::filesystem::path temp_dir();

}  // namespace inferd::testing

// Skips the current test, naming the missing path, when a shared fixture is absent.
#define INFERD_REQUIRE_SHARED(path_var, relative)                                            \
  const std::filesystem::path path_var = ::inferd::testing::shared_path((relative));         \
  if (path_var.empty() || !std::filesystem::exists(path_var))                                \
  GTEST_SKIP() << "shared test data missing: " << (::inferd::testing::shared_dir() / (relative)) \
               << " (expected ../shared beside the repository, or set INFERD_SHARED_DIR)"

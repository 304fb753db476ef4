#include "testing/test_paths.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <unistd.h>

namespace inferd::testing {

std::filesystem::path source_dir() { return INFERD_SOURCE_DIR; }

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("INFERD_SHARED_DIR"); env && *env) return env;
  return (source_dir() / ".." / "shared").lexically_normal();
}

std::filesystem::path shared_path(const std::string& relative) {
  std::filesystem::path p = shared_dir() / relative;
  return std::filesystem::exists(shared_dir()) ? p : std::filesystem::path{};
}

std::filesystem::path temp_dir() {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
  for (char& c : name)
    if (c == '/') c = '_';
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("inferd-" + std::to_string(getpid()) + "-" +
                               std::to_string(counter++) + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace inferd::testing

#include "server/metrics/process_stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace inferd::server::metrics {
namespace {

TEST(ProcessStatsTest, ParsesStatWithAnAwkwardCommand) {
  // Fields 3.. after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt
  // cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss.
  const std::string text =
      "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 1000 "
      "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n";
  ProcessStats s;
  ASSERT_TRUE(parse_proc_stat(text, 100, 4096, 1.7e9, &s).ok());
  EXPECT_DOUBLE_EQ(s.cpu_seconds, 3.0);
  EXPECT_EQ(s.num_threads, 7);
  EXPECT_DOUBLE_EQ(s.start_time_unix_s, 1.7e9 + 10);
  EXPECT_EQ(s.virtual_bytes, 104857600u);
  EXPECT_EQ(s.resident_bytes, 2560u * 4096);
  EXPECT_FALSE(parse_proc_stat("1234 (x) S 1 2", 100, 4096, 0, &s).ok());
  EXPECT_FALSE(parse_proc_stat("no parens", 100, 4096, 0, &s).ok());
}

TEST(ProcessStatsTest, ReadsThisProcess) {
  auto before = read_process_stats();
  ASSERT_TRUE(before.ok()) << before.status().to_string();
  EXPECT_GT(before->resident_bytes, 0u);
  EXPECT_GT(before->num_threads, 0);
  EXPECT_GT(before->start_time_unix_s, 1.0e9);
  const int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  auto after = read_process_stats();
  ::close(fd);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->open_fds, before->open_fds + 1);
}

}  // namespace
}  // namespace inferd::server::metrics

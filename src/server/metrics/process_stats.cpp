#include "server/metrics/process_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace inferd::server::metrics {
namespace {

Result<std::string> read_text(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot read {}", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// btime of /proc/stat: the boot time in seconds since the epoch.
double boot_time_unix_s() {
  auto text = read_text("/proc/stat");
  if (!text.ok()) return 0;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) return std::strtod(line.c_str() + 6, nullptr);
  }
  return 0;
}

}  // namespace

Status parse_proc_stat(std::string_view text, double ticks_per_second, uint64_t page_bytes,
                       double boot_time_s, ProcessStats* out) {
  // "pid (comm) state ppid ..."; fields are numbered from 1 and comm is field 2.
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) return invalid_argument("stat: no command field");
  std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
  size_t pos = close + 1;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n')) ++pos;
    const size_t start = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\n') ++pos;
    if (pos > start) fields.push_back(text.substr(start, pos - start));
  }
  auto field = [&](int number, uint64_t* value) {
    const size_t idx = static_cast<size_t>(number - 3);
    if (idx >= fields.size()) return false;
    const auto f = fields[idx];
    return std::from_chars(f.data(), f.data() + f.size(), *value).ec == std::errc();
  };
  uint64_t utime = 0, stime = 0, threads = 0, start = 0, vsize = 0, rss = 0;
  if (!field(14, &utime) || !field(15, &stime) || !field(20, &threads) || !field(22, &start) ||
      !field(23, &vsize) || !field(24, &rss)) {
    return invalid_argument("stat: missing or malformed fields");
  }
  out->cpu_seconds = static_cast<double>(utime + stime) / ticks_per_second;
  out->num_threads = static_cast<int64_t>(threads);
  out->start_time_unix_s = boot_time_s + static_cast<double>(start) / ticks_per_second;
  out->virtual_bytes = vsize;
  out->resident_bytes = rss * page_bytes;
  return {};
}

Result<ProcessStats> read_process_stats() {
  ProcessStats s;
  INFERD_ASSIGN_OR_RETURN(std::string stat, read_text("/proc/self/stat"));
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  INFERD_RETURN_IF_ERROR(parse_proc_stat(stat, ticks > 0 ? static_cast<double>(ticks) : 100.0,
                                         page > 0 ? static_cast<uint64_t>(page) : 4096,
                                         boot_time_unix_s(), &s));
  std::error_code ec;
  int64_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  s.open_fds = fds > 0 ? fds - 1 : 0;  // the iterator's own descriptor
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
    s.max_fds = static_cast<int64_t>(lim.rlim_cur);
  return s;
}

}  // namespace inferd::server::metrics

// ProcessStats: what the kernel reports about this process (Linux /proc), for the process_*
// metrics. A field the system does not report stays at its default.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace inferd::server::metrics {

struct ProcessStats {
  double cpu_seconds = 0;       // user + system
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  int64_t open_fds = 0;
  int64_t max_fds = 0;          // the soft limit
  double start_time_unix_s = 0;
  int64_t num_threads = 0;
};

// Reads /proc/self. Errors: /proc unreadable (not Linux, or not mounted).
Result<ProcessStats> read_process_stats();

// Parses the text of /proc/<pid>/stat (the comm field may hold spaces and parentheses) into
// cpu_seconds, resident_bytes, virtual_bytes, num_threads and the start time in clock ticks
// after boot (added to boot_time_unix_s). Errors: malformed text.
Status parse_proc_stat(std::string_view text, double ticks_per_second, uint64_t page_bytes,
                       double boot_time_unix_s, ProcessStats* out);

}  // namespace inferd::server::metrics

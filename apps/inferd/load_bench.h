// inferd bench --server URL: load against a running OpenAI-compatible server. At each
// concurrency level, that many clients each stream one completion of a fixed length at the same
// time; reported: aggregate output tokens/s, time to first token (p50, p99) and inter-token
// latency (p50, p99) as the clients saw them.
#pragma once

#include <string>
#include <vector>

namespace inferd::cli {

struct LoadBenchOptions {
  std::string server;                       // http://host:port
  std::vector<int> concurrency = {1, 4, 8, 16};
  int gen_tokens = 64;                      // per stream
  std::string prompt = "Once upon a time, in a quiet village by the sea,";
  std::string model;                        // empty: the server's default
  bool json = false;
};

int run_load_bench(const LoadBenchOptions& options);

}  // namespace inferd::cli

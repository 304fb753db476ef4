// inferd bench -m MODEL: prefill and decode speed, with the machine's measured memory read
// bandwidth and the fraction of it that decoding reaches (decode reads every weight once per
// token, so bandwidth / bytes-per-token is its ceiling).
//
// The bandwidth is measured around each decode repetition (the best of two probe passes right
// before it and two right after it) and each repetition's fraction is taken against its own
// figure: on a machine whose memory is shared with other tenants the rate can move by 2x within
// seconds, and a figure measured once, before loading the model, could belong to another
// moment than the decoding it is compared with.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/cpu/bandwidth.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "load_bench.h"
#include "inferd/engine.h"

namespace inferd::cli {
namespace {

struct BenchOptions {
  std::string model;
  int prompt_tokens = 128;
  int gen_tokens = 64;
  int threads = 0;
  int reps = 3;
  bool json = false;
  KvCacheType kv_type = KvCacheType::kF16;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Evaluates `tokens` as one prompt of sequence 0 starting at position 0.
Status prefill(Context& ctx, const std::vector<TokenId>& tokens) {
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < tokens.size(); ++i)
    batch.push_back({tokens[i], static_cast<int32_t>(i), 0, i + 1 == tokens.size()});
  return ctx.decode(batch);
}

// Greedy-decodes `n` tokens after a prompt of `start` tokens.
Status generate(Context& ctx, int start, int n, TokenId first) {
  TokenId next = first;
  for (int i = 0; i < n; ++i) {
    const BatchEntry e{next, start + i, 0, true};
    INFERD_RETURN_IF_ERROR(ctx.decode({&e, 1}));
    auto logits = ctx.logits(0);
    next = static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  return {};
}

int run_bench(const BenchOptions& o) {
  if (o.prompt_tokens < 1 || o.gen_tokens < 1 || o.reps < 1) {
    std::fprintf(stderr, "inferd bench: -p, -n and --reps must be at least 1\n");
    return 2;
  }
  ThreadPool probe_pool(o.threads);
  const int threads = probe_pool.num_threads();

  auto model = Model::load(o.model);
  if (!model.ok()) {
    std::fprintf(stderr, "inferd bench: %s\n", model.status().to_string().c_str());
    return 1;
  }
  const ModelInfo& info = (*model)->info();
  auto ctx = Context::create(*model, {.ctx_size = o.prompt_tokens + o.gen_tokens + 1,
                                      .max_batch = o.prompt_tokens,
                                      .num_threads = threads,
                                      .kv_type = o.kv_type});
  if (!ctx.ok()) {
    std::fprintf(stderr, "inferd bench: %s\n", ctx.status().to_string().c_str());
    return 1;
  }
  std::mt19937 rng(1234);
  std::uniform_int_distribution<TokenId> pick(0, static_cast<TokenId>(info.n_vocab - 1));
  std::vector<TokenId> prompt(o.prompt_tokens);
  for (auto& t : prompt) t = pick(rng);

  backend::cpu::ReadBandwidthProbe probe(backend::cpu::kReadProbeBytes);
  // Warm-up: fault in every weight page and the KV cache.
  Status st = prefill(**ctx, prompt);
  if (st.ok()) st = generate(**ctx, o.prompt_tokens, std::min(o.gen_tokens, 4), prompt[0]);
  // The better of two probe passes, after the other pool's threads have stopped spinning (each
  // pool's workers spin for well under a millisecond after a region before they sleep), so that
  // the two pools do not share the cores.
  const auto probe_passes = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const double gbps = std::max(probe.pass_gbps(probe_pool), probe.pass_gbps(probe_pool));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return gbps;
  };
  std::vector<double> prefill_s, decode_s, rep_gbps, rep_fraction;
  const double bytes_per_token = static_cast<double>(info.weight_bytes_per_token);
  for (int r = 0; r < o.reps && st.ok(); ++r) {
    auto t0 = std::chrono::steady_clock::now();
    st = prefill(**ctx, prompt);
    prefill_s.push_back(seconds_since(t0));
    if (!st.ok()) break;
    const double before_gbps = probe_passes();
    t0 = std::chrono::steady_clock::now();
    st = generate(**ctx, o.prompt_tokens, o.gen_tokens, prompt[0]);
    decode_s.push_back(seconds_since(t0));
    rep_gbps.push_back(std::max(before_gbps, probe_passes()));
    const double rep_read_gbps = o.gen_tokens / decode_s.back() * bytes_per_token / 1e9;
    rep_fraction.push_back(rep_read_gbps / rep_gbps.back());
  }
  if (!st.ok()) {
    std::fprintf(stderr, "inferd bench: %s\n", st.to_string().c_str());
    return 1;
  }
  const double prefill_tps = o.prompt_tokens / median(prefill_s);
  const double decode_tps = o.gen_tokens / median(decode_s);
  const double decode_gbps = decode_tps * bytes_per_token / 1e9;
  const double bandwidth_gbps = median(rep_gbps);
  const double fraction = median(rep_fraction);
  const double ceiling_tps = bandwidth_gbps * 1e9 / bytes_per_token;
  const auto [min_gbps, max_gbps] = std::minmax_element(rep_gbps.begin(), rep_gbps.end());

  if (o.json) {
    nlohmann::json j = {
        {"model", info.path}, {"architecture", info.architecture}, {"weight_type", info.weight_type},
        {"params", info.n_params}, {"weight_bytes_per_token", info.weight_bytes_per_token},
        {"threads", threads}, {"isa", isa_level_name(cpu_features().level)},
        {"prompt_tokens", o.prompt_tokens}, {"gen_tokens", o.gen_tokens}, {"reps", o.reps},
        {"prefill_tokens_per_s", prefill_tps}, {"decode_tokens_per_s", decode_tps},
        {"memory_read_bandwidth_gbps", bandwidth_gbps},
        {"memory_read_bandwidth_range_gbps", {*min_gbps, *max_gbps}},
        {"decode_read_gbps", decode_gbps}, {"decode_bandwidth_fraction", fraction},
        {"decode_ceiling_tokens_per_s", ceiling_tps}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("model        %s (%s, %s, %.2fB params, %.1f MB read per token)\n", info.path.c_str(),
              info.architecture.c_str(), info.weight_type.c_str(), info.n_params / 1e9,
              bytes_per_token / 1e6);
  std::printf("threads      %d (%s kernels)\n", threads, isa_level_name(cpu_features().level));
  std::printf("memory       %.1f GB/s measured read bandwidth (median of %d, around each "
              "decode; %.1f-%.1f)\n",
              bandwidth_gbps, o.reps, *min_gbps, *max_gbps);
  std::printf("prefill      %d tokens: %.1f tokens/s (median of %d)\n", o.prompt_tokens, prefill_tps, o.reps);
  std::printf("decode       %d tokens: %.2f tokens/s, %.1f ms/token (median of %d)\n", o.gen_tokens,
              decode_tps, 1000.0 / decode_tps, o.reps);
  std::printf("decode reads %.1f GB/s = %.1f%% of measured bandwidth (median of each repetition's "
              "fraction; ceiling %.1f tokens/s)\n",
              decode_gbps, 100.0 * fraction, ceiling_tps);
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure prefill and decode speed against memory bandwidth");
  auto o = std::make_shared<BenchOptions>();
  auto load = std::make_shared<LoadBenchOptions>();
  cmd->add_option("-m,--model", o->model, "GGUF model (or, with --server, the served model's name)");
  cmd->add_option("--server", load->server, "Load a running server (http://HOST:PORT) instead of a model file");
  cmd->add_option("--concurrency", load->concurrency, "With --server: concurrent streams per level")
      ->capture_default_str();
  cmd->add_option("-p,--prompt-tokens", o->prompt_tokens, "Prompt tokens to prefill")->capture_default_str();
  cmd->add_option("-n,--gen-tokens", o->gen_tokens, "Tokens to decode")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = one per core)")->capture_default_str();
  add_kv_type_option(cmd, o->kv_type);
  cmd->add_option("-r,--reps", o->reps, "Repetitions (the median is reported)")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  return {cmd, [o, load] {
            if (!load->server.empty()) {
              load->gen_tokens = o->gen_tokens;
              load->model = o->model;
              load->json = o->json;
              return run_load_bench(*load);
            }
            if (o->model.empty()) {
              std::fprintf(stderr, "inferd bench: give --model (a GGUF file) or --server\n");
              return 2;
            }
            return run_bench(*o);
          }};
}

}  // namespace inferd::cli

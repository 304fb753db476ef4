// inferd run -m MODEL -p PROMPT: generates a continuation of the prompt and prints only the
// generated text to stdout (as it is produced); diagnostics go to stderr.
#include <chrono>
#include <cstdio>
#include <vector>

#include "commands.h"
#include "inferd/engine.h"
#include "inferd/sampler.h"
#include "inferd/text_stream.h"

namespace inferd::cli {
namespace {

struct RunOptions {
  std::string model;
  std::string prompt;
  int max_tokens = 128;
  int threads = 0;
  int64_t ctx_size = 0;
  bool parse_special = false;
  bool verbose = false;
  SamplingParams sampling;
  uint64_t seed = 0;
  bool has_seed = false;
};

int fail(const Status& st) {
  std::fprintf(stderr, "inferd run: %s\n", st.to_string().c_str());
  return 1;
}

int run(RunOptions& o) {
  if (o.has_seed) o.sampling.seed = o.seed;
  auto model = Model::load(o.model);
  if (!model.ok()) return fail(model.status());
  auto sampler = Sampler::create(o.sampling, static_cast<int>((*model)->vocab_size()));
  if (!sampler.ok()) return fail(sampler.status());
  const std::vector<TokenId> prompt = (*model)->tokenize(o.prompt, true, o.parse_special);
  if (prompt.empty()) return fail(invalid_argument("the prompt produced no tokens"));
  auto ctx = Context::create(*model, {.ctx_size = o.ctx_size, .num_threads = o.threads});
  if (!ctx.ok()) return fail(ctx.status());
  const int64_t n_ctx = (*ctx)->ctx_size();
  if (static_cast<int64_t>(prompt.size()) >= n_ctx)
    return fail(invalid_argument("the prompt has {} tokens; the context holds {}", prompt.size(), n_ctx));

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < prompt.size(); ++i)
    batch.push_back({prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size()});
  if (Status st = (*ctx)->decode(batch); !st.ok()) return fail(st);
  sampler->feed_prompt(prompt);
  const auto t_prompt = std::chrono::steady_clock::now();

  TextStream stream(**model, /*skip_special=*/true, /*at_sequence_start=*/false);
  std::string text;
  int generated = 0;
  int32_t pos = static_cast<int32_t>(prompt.size());
  while (generated < o.max_tokens && pos < n_ctx) {
    const TokenId next = sampler->sample((*ctx)->logits(0));
    ++generated;
    if ((*model)->is_end_of_generation(next)) break;
    sampler->accept(next);
    text.clear();
    stream.push(next, text);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    if (generated == o.max_tokens || pos + 1 >= n_ctx) break;
    const BatchEntry e{next, pos++, 0, true};
    if (Status st = (*ctx)->decode({&e, 1}); !st.ok()) return fail(st);
  }
  text.clear();
  stream.flush(text);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  if (o.verbose) {
    const auto t_end = std::chrono::steady_clock::now();
    const double prompt_s = std::chrono::duration<double>(t_prompt - t0).count();
    const double gen_s = std::chrono::duration<double>(t_end - t_prompt).count();
    std::fprintf(stderr, "\nprompt: %zu tokens, %.1f tokens/s; generated: %d tokens, %.2f tokens/s; seed %llu\n",
                 prompt.size(), prompt.size() / prompt_s, generated, generated / gen_s,
                 static_cast<unsigned long long>(sampler->seed()));
  }
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt (prints only the generated text)");
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("-m,--model", o->model, "GGUF model")->required();
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text")->required();
  cmd->add_option("-n,--max-tokens", o->max_tokens, "Tokens to generate at most")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = one per core)")->capture_default_str();
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Context size (0 = the model's, at most 4096)")->capture_default_str();
  cmd->add_option("--temp", o->sampling.temperature, "Temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--top-k", o->sampling.top_k, "Top-k (0 = off)")->capture_default_str();
  cmd->add_option("--top-p", o->sampling.top_p, "Top-p")->capture_default_str();
  cmd->add_option("--min-p", o->sampling.min_p, "Min-p")->capture_default_str();
  cmd->add_option("--repeat-penalty", o->sampling.repetition_penalty, "Repetition penalty")->capture_default_str();
  cmd->add_option("--presence-penalty", o->sampling.presence_penalty, "Presence penalty")->capture_default_str();
  cmd->add_option("--frequency-penalty", o->sampling.frequency_penalty, "Frequency penalty")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed (default: random)")->each([o](const std::string&) { o->has_seed = true; });
  cmd->add_flag("--special", o->parse_special, "Parse special-token texts in the prompt");
  cmd->add_flag("-v,--verbose", o->verbose, "Print speed figures to stderr");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace inferd::cli

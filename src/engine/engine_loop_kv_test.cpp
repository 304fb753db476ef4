// The engine loop's paged KV cache: prefix reuse across requests, preemption when blocks run
// out (outputs unchanged), admission by priority, and the block accounting after the work.
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "engine/engine_loop_testing.h"

namespace inferd {
namespace {

class EngineLoopKvTest : public EngineLoopTest {
 protected:
  static std::vector<TokenId> prompt_of(int n, TokenId first = 200) {
    std::vector<TokenId> p = {1};
    for (int i = 1; i < n; ++i) p.push_back(first + i);
    return p;
  }
  static void expect_all_blocks_released(const EngineLoop& loop) {
    const EngineStats s = loop.stats();
    EXPECT_EQ(s.kv_blocks_used, 0);
    EXPECT_LE(s.kv_blocks_cached, s.kv_blocks_total);
  }
};

TEST_F(EngineLoopKvTest, ASecondRequestReusesTheFirstOnesPrefixWithTheSameOutput) {
  auto loop = EngineLoop::create(*model_, {.max_slots = 2, .ctx_per_slot = 128, .num_threads = 2, .kv_block_size = 16});
  ASSERT_TRUE(loop.ok());
  const auto prompt = prompt_of(40);
  auto first = std::make_shared<CollectingSink>();
  ASSERT_TRUE((*loop)->submit(greedy(prompt, 10), first).ok());
  first->wait();
  EXPECT_EQ(first->result.cached_tokens, 0);

  auto second = std::make_shared<CollectingSink>();
  ASSERT_TRUE((*loop)->submit(greedy(prompt, 10), second).ok());
  second->wait();
  EXPECT_EQ(second->result.cached_tokens, 32);  // two full blocks of 16 (token 40 is evaluated)
  EXPECT_EQ(second->tokens, first->tokens);
  EXPECT_EQ(first->tokens, reference_greedy(prompt, 10));

  // A follow-up turn: the previous prompt and answer, then more tokens.
  auto turn = prompt;
  turn.insert(turn.end(), first->tokens.begin(), first->tokens.end());
  for (TokenId t : {400, 401, 402, 403, 404, 405, 406, 407}) turn.push_back(t);
  auto third = std::make_shared<CollectingSink>();
  ASSERT_TRUE((*loop)->submit(greedy(turn, 6), third).ok());
  third->wait();
  EXPECT_EQ(third->result.cached_tokens, 48);  // 40 + 10 evaluated tokens hold three full blocks
  EXPECT_EQ(third->tokens, reference_greedy(turn, 6));
  const EngineStats s = (*loop)->stats();
  EXPECT_GT(s.prefix_hits, 0);
  EXPECT_EQ(s.cached_tokens, 80);
  expect_all_blocks_released(**loop);
}

TEST_F(EngineLoopKvTest, ChoicesOfOnePromptShareItsBlocks) {
  auto loop = EngineLoop::create(*model_, {.max_slots = 3, .ctx_per_slot = 128, .num_threads = 2, .kv_block_size = 16});
  ASSERT_TRUE(loop.ok());
  const auto prompt = prompt_of(40, 250);
  std::vector<std::shared_ptr<CollectingSink>> sinks;
  for (int c = 0; c < 3; ++c) {
    auto r = greedy(prompt, 5);
    r.sampling.temperature = 1.0f;
    r.sampling.seed = 10 + c;
    sinks.push_back(std::make_shared<CollectingSink>());
    ASSERT_TRUE((*loop)->submit(std::move(r), sinks.back()).ok());
  }
  int64_t cached = 0;
  for (auto& s : sinks) {
    s->wait();
    cached += s->result.cached_tokens;
  }
  EXPECT_EQ(cached, 64);  // the first computes the prompt; the others take its two full blocks
  expect_all_blocks_released(**loop);
}

TEST_F(EngineLoopKvTest, PreemptionWhenBlocksRunOutLeavesOutputsUnchanged) {
  // Room for one full context (128 positions = 8 blocks); three requests of 70 positions each.
  const int64_t block_bytes = 2 /*layers*/ * 16 * (2 * 16 + 2 * 16) * 2;  // f16 keys and values
  auto loop = EngineLoop::create(*model_, {.max_slots = 3, .ctx_per_slot = 128, .num_threads = 2,
                                           .kv_budget_bytes = 8 * block_bytes, .kv_block_size = 16});
  ASSERT_TRUE(loop.ok()) << loop.status().to_string();
  ASSERT_EQ((*loop)->stats().kv_blocks_total, 8);
  std::vector<std::shared_ptr<CollectingSink>> sinks;
  std::vector<std::vector<TokenId>> prompts;
  for (int r = 0; r < 3; ++r) {
    prompts.push_back(prompt_of(20, static_cast<TokenId>(100 + 50 * r)));
    sinks.push_back(std::make_shared<CollectingSink>());
    ASSERT_TRUE((*loop)->submit(greedy(prompts.back(), 50), sinks.back()).ok());
  }
  for (int r = 0; r < 3; ++r) {
    sinks[r]->wait();
    EXPECT_EQ(sinks[r]->result.reason, FinishReason::kLength);
    EXPECT_EQ(sinks[r]->tokens, reference_greedy(prompts[r], 50)) << "request " << r;
  }
  EXPECT_GT((*loop)->stats().preemptions, 0);
  expect_all_blocks_released(**loop);
}

TEST_F(EngineLoopKvTest, HigherPriorityIsAdmittedFirst) {
  auto loop = EngineLoop::create(*model_, {.max_slots = 1, .ctx_per_slot = 128, .num_threads = 1});
  ASSERT_TRUE(loop.ok());
  std::mutex mu;
  std::vector<int> order;
  class OrderSink : public CollectingSink {
   public:
    OrderSink(int tag, std::mutex& mu, std::vector<int>& order) : tag_(tag), mu_(mu), order_(order) {}
    // The first request's first token holds the engine thread (and so the only slot) until the
    // other two are queued, however the threads are scheduled.
    void on_token(TokenId t, std::string_view piece, const TokenLogprobs* lp) override {
      if (tag_ == 0) {
        std::unique_lock<std::mutex> lock(gate_mu_);
        gate_cv_.wait(lock, [&] { return open_; });
      }
      CollectingSink::on_token(t, piece, lp);
    }
    void release() {
      std::lock_guard<std::mutex> lock(gate_mu_);
      open_ = true;
      gate_cv_.notify_all();
    }
    void on_finish(const GenerationResult& r) override {
      {
        std::lock_guard<std::mutex> lock(mu_);
        order_.push_back(tag_);
      }
      CollectingSink::on_finish(r);
    }

   private:
    int tag_;
    std::mutex& mu_;
    std::vector<int>& order_;
    std::mutex gate_mu_;
    std::condition_variable gate_cv_;
    bool open_ = false;
  };
  std::vector<std::shared_ptr<OrderSink>> sinks;
  for (int tag : {0, 1, 2}) {
    auto r = greedy(prompt_of(8), tag == 0 ? 20 : 4);
    r.priority = tag == 2 ? 5 : 0;
    sinks.push_back(std::make_shared<OrderSink>(tag, mu, order));
    ASSERT_TRUE((*loop)->submit(std::move(r), sinks.back()).ok());
    // The first request takes the only slot before the other two are submitted.
    while (tag == 0 && (*loop)->stats().running == 0) std::this_thread::yield();
  }
  sinks[0]->release();
  for (auto& s : sinks) s->wait();
  EXPECT_EQ(order, (std::vector<int>{0, 2, 1}));
}

TEST_F(EngineLoopKvTest, ABudgetBelowOneContextIsRefused) {
  auto loop = EngineLoop::create(*model_, {.max_slots = 2, .ctx_per_slot = 128, .kv_budget_bytes = 1000});
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("less than one context"), std::string::npos);
}

}  // namespace
}  // namespace inferd

namespace inferd {
namespace {

// Waits for a save/restore report.
struct Report {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<int64_t>> result;
  std::function<void(Result<int64_t>)> callback() {
    return [this](Result<int64_t> r) {
      std::lock_guard<std::mutex> lock(mu);
      result = std::move(r);
      cv.notify_all();
    };
  }
  Result<int64_t> wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return result.has_value(); });
    return *result;
  }
};

TEST_F(EngineLoopKvTest, ASavedPrefixIsRestoredIntoAFreshEngine) {
  const std::string path = (::inferd::testing::temp_dir() / "prefix.kv").string();
  std::filesystem::remove(path);
  const auto prompt = prompt_of(50, 300);
  {
    auto loop = EngineLoop::create(*model_, {.max_slots = 2, .ctx_per_slot = 128, .num_threads = 2});
    ASSERT_TRUE(loop.ok());
    auto sink = std::make_shared<CollectingSink>();
    ASSERT_TRUE((*loop)->submit(greedy(prompt, 0), sink).ok());  // evaluate the prompt only
    sink->wait();
    Report saved;
    (*loop)->save_prefix(prompt, path, saved.callback());
    auto n = saved.wait();
    ASSERT_TRUE(n.ok()) << n.status().to_string();
    EXPECT_EQ(*n, 48);  // three whole blocks of 16
  }
  auto loop = EngineLoop::create(*model_, {.max_slots = 2, .ctx_per_slot = 128, .num_threads = 2});
  ASSERT_TRUE(loop.ok());
  Report restored;
  (*loop)->restore_prefix(path, restored.callback());
  auto n = restored.wait();
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 48);
  auto sink = std::make_shared<CollectingSink>();
  ASSERT_TRUE((*loop)->submit(greedy(prompt, 8), sink).ok());
  sink->wait();
  EXPECT_EQ(sink->result.cached_tokens, 48);
  EXPECT_EQ(sink->tokens, reference_greedy(prompt, 8));
  expect_all_blocks_released(**loop);

  // Corrupt: rejected, nothing restored.
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(100);
    f.put('\x7f');
  }
  Report corrupt;
  (*loop)->restore_prefix(path, corrupt.callback());
  EXPECT_FALSE(corrupt.wait().ok());
  Report missing;
  (*loop)->restore_prefix(path + ".none", missing.callback());
  EXPECT_EQ(missing.wait().status().code(), StatusCode::kNotFound);
}

std::vector<std::filesystem::path> auto_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().filename().string().starts_with("auto-")) out.push_back(e.path());
  return out;
}

// Polls for up to five seconds until `dir` holds `n` automatically saved prefixes.
bool wait_for_auto_files(const std::filesystem::path& dir, size_t n) {
  for (int i = 0; i < 500; ++i) {
    if (auto_files(dir).size() == n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_F(EngineLoopKvTest, ConversationsAreSavedWhenIdleAndRestoredAfterARestart) {
  const auto dir = ::inferd::testing::temp_dir() / "idle-kv";
  std::filesystem::remove_all(dir);
  EngineOptions o{.max_slots = 2, .ctx_per_slot = 128, .num_threads = 2};
  o.kv_persist_dir = dir.string();
  o.kv_persist_idle_s = 0.05;
  o.kv_persist_min_tokens = 32;
  o.kv_persist_max_files = 2;
  const auto prompt = prompt_of(40, 300);
  std::vector<TokenId> turn2;
  {
    auto loop = EngineLoop::create(*model_, o);
    ASSERT_TRUE(loop.ok());
    auto first = std::make_shared<CollectingSink>();
    ASSERT_TRUE((*loop)->submit(greedy(prompt, 10), first).ok());
    first->wait();
    // The next turn extends the first before the loop goes idle: one file, of the longer one.
    turn2 = prompt;
    turn2.insert(turn2.end(), first->tokens.begin(), first->tokens.end());
    for (TokenId t : {400, 401, 402, 403, 404, 405}) turn2.push_back(t);
    auto second = std::make_shared<CollectingSink>();
    ASSERT_TRUE((*loop)->submit(greedy(turn2, 4), second).ok());
    second->wait();
    ASSERT_TRUE(wait_for_auto_files(dir, 1));
    // A short request (under min_tokens) is not saved; two more long ones are, and only the
    // newest two files are kept.
    auto small = std::make_shared<CollectingSink>();
    ASSERT_TRUE((*loop)->submit(greedy(prompt_of(20, 500), 2), small).ok());
    small->wait();
    for (TokenId first_token : {440, 520}) {
      auto other = std::make_shared<CollectingSink>();
      ASSERT_TRUE((*loop)->submit(greedy(prompt_of(48, first_token), 2), other).ok());
      other->wait();
      std::this_thread::sleep_for(std::chrono::milliseconds(150));  // idle: saved now
    }
    EXPECT_TRUE(wait_for_auto_files(dir, 2));
  }
  const auto files = auto_files(dir);
  ASSERT_EQ(files.size(), 2u);

  // Shutting down saves what waits for an idle moment.
  o.kv_persist_idle_s = 3600;
  o.kv_persist_max_files = 8;
  {
    auto loop = EngineLoop::create(*model_, o);
    ASSERT_TRUE(loop.ok());
    auto sink = std::make_shared<CollectingSink>();
    ASSERT_TRUE((*loop)->submit(greedy(turn2, 4), sink).ok());
    sink->wait();
    EXPECT_EQ(auto_files(dir).size(), 2u);
  }
  ASSERT_EQ(auto_files(dir).size(), 3u);

  // After a restart, restoring the saved files serves the conversation from the cache.
  auto loop = EngineLoop::create(*model_, o);
  ASSERT_TRUE(loop.ok());
  for (const auto& f : auto_files(dir)) {
    Report restored;
    (*loop)->restore_prefix(f.string(), restored.callback());
    ASSERT_TRUE(restored.wait().ok());
  }
  auto sink = std::make_shared<CollectingSink>();
  ASSERT_TRUE((*loop)->submit(greedy(turn2, 4), sink).ok());
  sink->wait();
  EXPECT_EQ(sink->result.cached_tokens, 48);  // 56 prompt tokens: three whole blocks of 16
  EXPECT_EQ(sink->tokens, reference_greedy(turn2, 4));
}

}  // namespace
}  // namespace inferd

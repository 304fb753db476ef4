#include "engine/grammar/model_grammar_cache.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "engine/grammar/gbnf_parser.h"
#include "testing/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace inferd::engine {
namespace {

class ModelGrammarCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    INFERD_REQUIRE_SHARED(path, "fixtures/llama-2-tiny-random.gguf");
    auto m = Model::load(path.string());
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    model_ = *m;
  }

  // A builder for `gbnf` that counts its calls.
  ModelGrammarCache::GrammarBuilder counting(std::string gbnf) {
    return [this, gbnf](const GrammarVocab&) {
      ++builds_;
      return parse_gbnf(gbnf);
    };
  }

  std::shared_ptr<const Model> model_;
  std::atomic<int> builds_{0};
};

TEST_F(ModelGrammarCacheTest, VocabularyIsBuiltOncePerModel) {
  ModelGrammarCache cache;
  auto a = cache.vocab(*model_);
  auto b = cache.vocab(*model_);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(a->size(), model_->tokenizer().vocab_size());
  EXPECT_EQ(cache.num_models(), 1u);
  ASSERT_TRUE(model_->eos().has_value());
  EXPECT_TRUE(a->is_eog(*model_->eos()));
}

TEST_F(ModelGrammarCacheTest, GrammarsAreCachedByKey) {
  ModelGrammarCache cache;
  auto a = cache.grammar(*model_, "a", counting(R"(root ::= "a")"));
  auto again = cache.grammar(*model_, "a", counting(R"(root ::= "a")"));
  ASSERT_TRUE(a.ok() && again.ok());
  EXPECT_EQ(a->get(), again->get());
  EXPECT_EQ(builds_, 1);
  EXPECT_EQ(&(*a)->vocab(), cache.vocab(*model_).get()) << "compiled for the cached vocabulary";
  auto b = cache.grammar(*model_, "b", counting(R"(root ::= "b")"));
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->get(), b->get());
  EXPECT_EQ(builds_, 2);
  EXPECT_EQ(cache.num_grammars(*model_), 2u);
}

TEST_F(ModelGrammarCacheTest, LeastRecentlyUsedGrammarIsDropped) {
  ModelGrammarCache cache(/*max_models=*/2, /*max_grammars=*/2);
  ASSERT_TRUE(cache.grammar(*model_, "a", counting(R"(root ::= "a")")).ok());
  ASSERT_TRUE(cache.grammar(*model_, "b", counting(R"(root ::= "b")")).ok());
  ASSERT_TRUE(
      cache.grammar(*model_, "a", counting(R"(root ::= "a")")).ok());  // a is now the newest
  ASSERT_TRUE(cache.grammar(*model_, "c", counting(R"(root ::= "c")")).ok());  // drops b
  EXPECT_EQ(builds_, 3);
  EXPECT_EQ(cache.num_grammars(*model_), 2u);
  ASSERT_TRUE(cache.grammar(*model_, "a", counting(R"(root ::= "a")")).ok());
  EXPECT_EQ(builds_, 3);
  ASSERT_TRUE(cache.grammar(*model_, "b", counting(R"(root ::= "b")")).ok());
  EXPECT_EQ(builds_, 4);
}

TEST_F(ModelGrammarCacheTest, ErrorsAreReturnedAndNotCached) {
  ModelGrammarCache cache;
  auto bad = cache.grammar(*model_, "bad", counting("root ::= missing"));
  EXPECT_FALSE(bad.ok());
  auto never = cache.grammar(*model_, "never", counting("root ::= \"a\" root"));
  EXPECT_FALSE(never.ok()) << "a grammar that cannot end fails to compile";
  EXPECT_EQ(cache.num_grammars(*model_), 0u);
  EXPECT_FALSE(cache.grammar(*model_, "bad", counting("root ::= missing")).ok());
  EXPECT_EQ(builds_, 3);
}

TEST_F(ModelGrammarCacheTest, ModelsAreKeptSeparatelyAndBounded) {
  INFERD_REQUIRE_SHARED(path, "fixtures/fixture-qwen2-q8_0.gguf");
  auto other = Model::load(path.string());
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  ModelGrammarCache cache(/*max_models=*/1);
  auto llama_vocab = cache.vocab(*model_);
  auto qwen_vocab = cache.vocab(**other);
  EXPECT_NE(llama_vocab.get(), qwen_vocab.get());
  EXPECT_EQ(qwen_vocab->size(), (*other)->tokenizer().vocab_size());
  EXPECT_EQ(cache.num_models(), 1u);
  EXPECT_NE(cache.vocab(*model_).get(), llama_vocab.get()) << "rebuilt after being dropped";
}

TEST_F(ModelGrammarCacheTest, ConcurrentUseAgreesOnOneVocabulary) {
  ModelGrammarCache cache;
  std::vector<std::shared_ptr<const GrammarVocab>> seen(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i)
    threads.emplace_back([&, i] {
      seen[i] = cache.vocab(*model_);
      EXPECT_TRUE(cache.grammar(*model_, "x", counting(R"(root ::= "x"+)")).ok());
    });
  for (auto& t : threads) t.join();
  for (const auto& v : seen) EXPECT_EQ(v.get(), seen[0].get());
  EXPECT_EQ(cache.num_grammars(*model_), 1u);
}

}  // namespace
}  // namespace inferd::engine

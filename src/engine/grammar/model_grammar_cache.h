// ModelGrammarCache: what grammar-constrained decoding precomputes per model, kept so that a
// constraint per request is cheap: the model's GrammarVocab (token bytes and token trie, built
// once per model) and its most recently used CompiledGrammars by key (each holds the per-state
// token analyses gathered so far, so later requests with the same grammar reuse them).
//
// Models are found by address and checked against a fingerprint of their vocabulary (file
// path, sizes and a sample of token texts), so a new Model at a freed one's address is not
// mistaken for it. At most max_models models and max_grammars grammars per model are kept;
// the least recently used are dropped (constraints already made keep theirs alive).
//
// Thread-safe: any thread may call any method; building a vocabulary or a grammar happens
// outside the cache lock (two threads missing the same grammar may both build it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "engine/grammar/compiled_grammar.h"
#include "engine/grammar/grammar.h"
#include "engine/grammar/grammar_vocab.h"
#include "inferd/engine.h"

namespace inferd::engine {

class ModelGrammarCache {
 public:
  explicit ModelGrammarCache(size_t max_models = 8, size_t max_grammars = 64);
  ModelGrammarCache(const ModelGrammarCache&) = delete;
  ModelGrammarCache& operator=(const ModelGrammarCache&) = delete;

  // The process-wide cache the structured-output factories use.
  static ModelGrammarCache& global();

  // The vocabulary of `model` as grammar matching sees it.
  std::shared_ptr<const GrammarVocab> vocab(const Model& model);

  // The grammar cached for `model` under `key`; on a miss, build() compiled for the model's
  // vocabulary and cached (errors of build() and of compilation are returned, not cached).
  using GrammarBuilder = std::function<Result<Grammar>(const GrammarVocab&)>;
  Result<std::shared_ptr<const CompiledGrammar>> grammar(const Model& model, const std::string& key,
                                                         const GrammarBuilder& build);

  size_t num_models() const;
  size_t num_grammars(const Model& model) const;

 private:
  struct Entry;
  std::shared_ptr<Entry> entry(const Model& model);

  const size_t max_models_;
  const size_t max_grammars_;
  mutable std::mutex mu_;
  std::list<std::shared_ptr<Entry>> models_;  // most recently used first
};

}  // namespace inferd::engine

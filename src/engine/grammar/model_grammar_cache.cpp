#include "engine/grammar/model_grammar_cache.h"

#include <algorithm>

#include "tokenizer/tokenizer.h"

namespace inferd::engine {
namespace {

constexpr int32_t kFingerprintSamples = 256;

void mix(uint64_t& h, std::string_view bytes) {
  for (char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001B3ULL;
  h = (h ^ 0xFF) * 0x100000001B3ULL;  // separator, so that concatenations differ
}

// Identifies a model's vocabulary: file path, sizes, and the texts of evenly spaced tokens.
uint64_t fingerprint(const Model& model) {
  uint64_t h = 0xCBF29CE484222325ULL;
  mix(h, model.info().path);
  mix(h, std::to_string(model.vocab_size()));
  const tokenizer::Tokenizer& tok = model.tokenizer();
  const int32_t n = tok.vocab_size();
  mix(h, std::to_string(n));
  const int32_t stride = std::max(1, n / kFingerprintSamples);
  for (int32_t id = 0; id < n; id += stride) mix(h, tok.piece(id));
  return h;
}

}  // namespace

struct ModelGrammarCache::Entry {
  const Model* model = nullptr;
  uint64_t fingerprint = 0;
  std::once_flag vocab_once;
  std::shared_ptr<const GrammarVocab> vocab;  // set once, under vocab_once
  std::mutex mu;                              // guards the grammars below
  std::list<std::pair<std::string, std::shared_ptr<const CompiledGrammar>>> grammars;  // MRU first
  std::unordered_map<std::string, decltype(grammars)::iterator> by_key;
};

ModelGrammarCache::ModelGrammarCache(size_t max_models, size_t max_grammars)
    : max_models_(std::max<size_t>(1, max_models)),
      max_grammars_(std::max<size_t>(1, max_grammars)) {}

ModelGrammarCache& ModelGrammarCache::global() {
  static ModelGrammarCache* cache = new ModelGrammarCache();  // never destroyed: used until exit
  return *cache;
}

std::shared_ptr<ModelGrammarCache::Entry> ModelGrammarCache::entry(const Model& model) {
  const uint64_t fp = fingerprint(model);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = models_.begin(); it != models_.end(); ++it) {
    if ((*it)->model != &model) continue;
    if ((*it)->fingerprint == fp) {
      models_.splice(models_.begin(), models_, it);
      return models_.front();
    }
    models_.erase(it);  // another model that lived at this address
    break;
  }
  auto e = std::make_shared<Entry>();
  e->model = &model;
  e->fingerprint = fp;
  models_.push_front(e);
  while (models_.size() > max_models_) models_.pop_back();
  return e;
}

std::shared_ptr<const GrammarVocab> ModelGrammarCache::vocab(const Model& model) {
  std::shared_ptr<Entry> e = entry(model);
  std::call_once(e->vocab_once,
                 [&] { e->vocab = GrammarVocab::from_tokenizer(model.tokenizer()); });
  return e->vocab;
}

Result<std::shared_ptr<const CompiledGrammar>> ModelGrammarCache::grammar(
    const Model& model, const std::string& key, const GrammarBuilder& build) {
  std::shared_ptr<Entry> e = entry(model);
  std::call_once(e->vocab_once,
                 [&] { e->vocab = GrammarVocab::from_tokenizer(model.tokenizer()); });
  {
    std::lock_guard<std::mutex> lock(e->mu);
    auto it = e->by_key.find(key);
    if (it != e->by_key.end()) {
      e->grammars.splice(e->grammars.begin(), e->grammars, it->second);
      return it->second->second;
    }
  }
  INFERD_ASSIGN_OR_RETURN(const Grammar g, build(*e->vocab));
  INFERD_ASSIGN_OR_RETURN(std::shared_ptr<const CompiledGrammar> compiled,
                          CompiledGrammar::compile(g, e->vocab));
  std::lock_guard<std::mutex> lock(e->mu);
  auto it = e->by_key.find(key);
  if (it != e->by_key.end()) return it->second->second;  // another thread built it first
  e->grammars.emplace_front(key, compiled);
  e->by_key.emplace(key, e->grammars.begin());
  while (e->grammars.size() > max_grammars_) {
    e->by_key.erase(e->grammars.back().first);
    e->grammars.pop_back();
  }
  return compiled;
}

size_t ModelGrammarCache::num_models() const {
  std::lock_guard<std::mutex> lock(mu_);
  return models_.size();
}

size_t ModelGrammarCache::num_grammars(const Model& model) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : models_) {
    if (e->model != &model) continue;
    std::lock_guard<std::mutex> entry_lock(e->mu);
    return e->grammars.size();
  }
  return 0;
}

}  // namespace inferd::engine

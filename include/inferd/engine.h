// The inferd engine API: load a model, tokenize and detokenize, evaluate batches of tokens for
// one or more sequences, and read logits. Everything above the engine (CLI, server) uses only
// the headers of include/inferd.
//
// Thread safety: a Model is immutable and may be shared by any number of threads and contexts.
// A Context (KV cache, scratch buffers, thread pool) is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inferd/status.h"
#include "inferd/token_id.h"

namespace inferd {

namespace model {
class Model;
}
namespace tokenizer {
class Tokenizer;
}

struct ModelInfo {
  std::string path;
  std::string name;          // general.name
  std::string architecture;  // general.architecture
  std::string weight_type;   // type of most weight bytes, e.g. "q4_0"
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_ff = 0;
  uint64_t file_bytes = 0;
  uint64_t weight_bytes = 0;            // all tensor data
  // Weight memory the model holds while it serves: weight_bytes for a GGUF file (a mapping the
  // system can drop); for a model directory, the tensors it still holds plus the repacked
  // (panel) copies of matrices, whose blocks it released.
  uint64_t resident_weight_bytes = 0;
  uint64_t weight_bytes_per_token = 0;  // read once per decoded token
  int64_t n_params = 0;
};

class Model {
 public:
  // Opens, validates and binds a GGUF model file or a Hugging Face / MLX model directory
  // (config.json, *.safetensors, tokenizer.json); weights stay memory-mapped where they can.
  static Result<std::shared_ptr<const Model>> load(const std::string& path);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelInfo& info() const;
  int64_t vocab_size() const;

  // Text to tokens. add_special: BOS/EOS as the model's vocabulary asks; parse_special:
  // recognise special-token texts such as "<|eot_id|>" in `text` (for chat templates).
  std::vector<TokenId> tokenize(std::string_view text, bool add_special = true,
                                bool parse_special = false) const;
  // The bytes of one token (may be an incomplete UTF-8 sequence).
  std::string token_to_piece(TokenId id, bool render_special = false) const;
  std::string detokenize(std::span<const TokenId> tokens, bool skip_special = true) const;
  // End of generation: EOS, EOT and the vocabulary's other end-of-turn tokens.
  bool is_end_of_generation(TokenId id) const;
  std::optional<TokenId> bos() const;
  std::optional<TokenId> eos() const;
  // Whether tokenize(..., add_special = true) starts with BOS.
  bool adds_bos() const;
  // The model's own Jinja chat template (GGUF metadata, or the directory's
  // chat_template.jinja / tokenizer_config.json); "" when it has none.
  const std::string& chat_template() const;

  // The layers below the API (for the engine loop and tools).
  const model::Model& core() const;
  const tokenizer::Tokenizer& tokenizer() const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Element type of the KV cache. f16 is the default; q8_0 (int8 in blocks of 32 with an f16
// scale) holds 1.9x the positions in the same memory at a small cost in precision, for models
// whose head sizes are multiples of 32.
enum class KvCacheType { kF16, kQ8_0 };
const char* kv_cache_type_name(KvCacheType type);  // "f16", "q8_0"
std::optional<KvCacheType> parse_kv_cache_type(std::string_view name);

struct ContextOptions {
  int64_t ctx_size = 0;    // positions per sequence; 0 = the model's training context, at most 4096
  int64_t max_seqs = 1;    // sequences (KV slots)
  int64_t max_batch = 512; // tokens per forward pass; larger decode() calls are split
  int num_threads = 0;     // 0 = one per core
  KvCacheType kv_type = KvCacheType::kF16;
};

// One token to evaluate: its id, its position in its sequence, the sequence, and whether its
// logits and its embedding (the final normalised hidden state) are wanted.
struct BatchEntry {
  TokenId token = 0;
  int32_t pos = 0;
  int32_t seq = 0;
  bool logits = false;
  bool embedding = false;
};

class Context {
 public:
  static Result<std::unique_ptr<Context>> create(std::shared_ptr<const Model> model,
                                                 const ContextOptions& options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Model& model() const;
  int64_t ctx_size() const;
  int64_t max_seqs() const;
  int num_threads() const;
  size_t kv_bytes() const;

  // Evaluates `batch`. For each entry, positions before `pos` of its sequence must have been
  // evaluated already (earlier calls or earlier entries). Logits of entries with `logits` set are
  // available, in batch order, from logits(i) until the next decode().
  Status decode(std::span<const BatchEntry> batch);
  int64_t num_outputs() const;
  // REQUIRES i < num_outputs(). n_vocab floats.
  std::span<const float> logits(int64_t i) const;
  // Embeddings of entries with `embedding` set, in batch order, until the next decode().
  int64_t num_embeddings() const;
  // REQUIRES i < num_embeddings(). n_embd floats.
  std::span<const float> embedding(int64_t i) const;

 private:
  struct Impl;
  explicit Context(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd

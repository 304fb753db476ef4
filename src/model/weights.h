// Weights: the tensors of a model (TensorTable) bound to the transformer's structure, with every
// shape checked against HParams. Matrices point into the tensors; those of types with panel
// kernels at the CPU's level (Q4_0, Q8_0 and every MLX affine type, with AVX-512) are also
// repacked once into panels owned here, which matmul reads instead. A layer's dense matrices
// share one panel buffer, in the order a forward pass reads them.
// Released block forms: when bind() is asked to release packed tensors, each table-owned tensor
// (MLX blocks of a model directory) whose every matrix got panels is released
// (TensorTable::release) right after its panels are written, so loading never holds both forms
// of the whole model; its matrices keep their panels and get data == nullptr, and nobody reads
// them through `data`. The token embedding's tensor (row lookups, and the output matrix when
// tied) is never released, nor is a tensor in a file mapping (GGUF files, unconverted
// safetensors), which costs nothing resident.
// Small vectors (norms, biases, RoPE factors) are converted to f32 copies owned here.
// Immutable after bind(); safe to share between threads.
#pragma once

#include <vector>

#include "backend/cpu/matmul.h"
#include "base/aligned_buffer.h"
#include "model/tensor_table.h"
#include "model/hparams.h"

namespace inferd::model {

using backend::cpu::MatrixRef;

struct LayerWeights {
  const float* attn_norm = nullptr;
  MatrixRef wq, wk, wv, wo;                  // fused qkv files: row slices of one matrix
  const float* bq = nullptr;                 // optional biases (nullptr when absent)
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* q_norm = nullptr;             // [head_dim_k], qk_norm families
  const float* k_norm = nullptr;
  const float* post_attn_norm = nullptr;     // post_norms families
  const float* ffn_norm = nullptr;
  MatrixRef w_gate, w_up, w_down;            // fused gate/up files: row slices of one matrix
  const float* post_ffn_norm = nullptr;
  // Sparse (MoE) layers instead of w_gate/w_up/w_down: the router [n_expert x n_embd] and each
  // expert's matrices ([n_ff_expert x n_embd], [n_ff_expert x n_embd], [n_embd x n_ff_expert]),
  // slices of stacked 3-D tensors or separate per-expert tensors.
  MatrixRef router;
  std::vector<MatrixRef> expert_gate, expert_up, expert_down;
};

class Weights {
 public:
  // What bind() does with a table-owned tensor once all its matrices have panels.
  enum class PackedTensors { kKeep, kRelease };
  static Result<Weights> bind(TensorTable& tensors, const HParams& hp, PackedTensors packed);

  MatrixRef token_embd;   // [n_vocab rows x n_embd]
  MatrixRef output;       // [n_vocab rows x n_embd]; token_embd when tied
  const float* output_norm = nullptr;
  const float* rope_freq_factors = nullptr;  // [n_rot / 2] or nullptr (Llama 3 rope scaling)
  std::vector<LayerWeights> layers;

  // Bytes of weight data read for one token (every matrix once, n_expert_used experts of each
  // sparse layer, one embedding row).
  uint64_t bytes_per_token = 0;
  // Bytes of all tensors in the file (as loaded, released ones included).
  uint64_t total_bytes = 0;
  // Bytes of the panel copies of matrices (held besides the tensors not released).
  uint64_t panel_bytes() const;

 private:
  void pack_panels(TensorTable& tensors, PackedTensors packed);

  AlignedBuffer vectors_;  // f32 copies of norms, biases and factors
  // The panels of the matrices (MatrixRef::panels): one buffer per layer's dense matrices, per
  // expert tensor, and for the output matrix.
  std::vector<AlignedBuffer> panels_;
};

}  // namespace inferd::model

// Hugging Face tensor names <-> inferd's internal (GGUF) names, one table for both directions.
// A checkpoint's module path ("model.layers.3.self_attn.q_proj") is mapped once at load; the
// rest of the engine sees only internal names ("blk.3.attn_q").
#pragma once

#include <optional>
#include <string>

#include "model/arch.h"

namespace inferd::model {

// The internal name of an HF tensor name ("...q_proj.weight" -> "blk.N.attn_q.weight"), or nullopt
// for tensors inferd does not use (rotary caches, vision towers). Accepts the "model." prefix
// and the multimodal "language_model." prefixes.
std::optional<std::string> hf_to_internal_name(const ArchSpec& arch, const std::string& hf_name);

// The HF name of an internal tensor name (writers of model directories), or nullopt.
std::optional<std::string> internal_to_hf_name(const ArchSpec& arch, const std::string& name);

}  // namespace inferd::model

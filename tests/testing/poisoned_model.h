// A model that loads but computes garbage, for tests of what happens when generation fails.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"

namespace inferd::testing {

// Writes a copy of the GGUF file `from` to `to` in which every value of the F32 or F16 tensor
// `tensor` is NaN (so every logit computed through it is NaN too).
Status write_poisoned_copy(const std::filesystem::path& from, const std::filesystem::path& to,
                           const std::string& tensor);

}  // namespace inferd::testing

// Logits of a model file or directory through the public engine API, for tests that compare
// models which should compute the same function (conversions, rope variants).
#pragma once

#include <filesystem>
#include <vector>

#include "model/model.h"

namespace inferd::testing {

// The logits of the last 3 of 40 positions (far enough for the rotation to matter) of the tokens
// 100 + 7 i, computed in one batch (needs a vocabulary of at least 374 tokens). Empty, with a
// test failure, when the model does not load or compute. Directories need no tokenizer.
std::vector<float> last_logits(const model::Model& model);
std::vector<float> last_logits(const std::filesystem::path& model);

// The largest |a[i] - b[i]| (a test failure when the sizes differ).
float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace inferd::testing

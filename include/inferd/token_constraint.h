// TokenConstraint: restricts which tokens may come next (grammar-constrained decoding for
// structured output and forced tool calls). One instance per generation, used only by the
// engine thread that runs it.
#pragma once

#include <span>

#include "inferd/status.h"
#include "inferd/token_id.h"

namespace inferd {

class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  // Sets the logits of every token that may not come next to -inf. End-of-generation tokens
  // are allowed exactly when the constrained output is complete.
  virtual void apply(std::span<float> logits) = 0;
  // Records the token chosen (an error when it violates the constraint).
  virtual Status accept(TokenId token) = 0;
  // True when nothing more may be generated except end-of-generation.
  virtual bool is_finished() const = 0;
};

}  // namespace inferd

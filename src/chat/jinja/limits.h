// Resource limits of one template render, and the budget that enforces them. Every limit turns
// into a Status error with a clear message instead of a crash, a hang or unbounded memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/status.h"

namespace inferd::chat::jinja {

struct Limits {
  // Evaluation steps (statements, expressions, and work proportional to the size of strings and
  // lists built): bounds CPU time, including quadratic or exponential template logic.
  uint64_t max_steps = 20'000'000;
  // Iterations of all for-loops of one render together.
  uint64_t max_loop_iterations = 1'000'000;
  // Nested macro calls, caller() calls and recursive loop() calls.
  uint32_t max_call_depth = 100;
  // Nested evaluation of statements and expressions across all calls: bounds stack use. At
  // this limit a render uses under 1 MiB of stack in release builds (about 4 MiB with
  // AddressSanitizer).
  uint32_t max_eval_depth = 500;
  // Nesting of lists/tuples/dicts in values (also for JSON input).
  uint32_t max_value_depth = 256;
  // Rendered output, and any single string value.
  size_t max_output_bytes = 16u << 20;
  // Items in any single list, tuple or dict value.
  size_t max_container_items = 1u << 20;
};

// Parse-time limits of the template source.
struct ParseLimits {
  size_t max_source_bytes = 4u << 20;
  // Nesting of expressions and statements (bounds parser and evaluator recursion).
  uint32_t max_nesting = 200;
};

class Budget {
 public:
  explicit Budget(const Limits& limits) : limits_(limits) {}

  const Limits& limits() const { return limits_; }

  // Spends `units` steps.
  Status charge(uint64_t units) {
    steps_ += units;
    if (steps_ > limits_.max_steps) {
      return resource_exhausted("template exceeded its evaluation budget of {} steps",
                                limits_.max_steps);
    }
    return Status::ok_status();
  }
  // Checks the size of a string being built, without charging for it.
  Status check_string(size_t bytes) const {
    if (bytes > limits_.max_output_bytes) {
      return resource_exhausted("template built a string of {} bytes, over the limit of {}", bytes,
                                limits_.max_output_bytes);
    }
    return Status::ok_status();
  }
  // Charges for building a string of `bytes` bytes and checks its size.
  Status charge_string(size_t bytes) {
    INFERD_RETURN_IF_ERROR(check_string(bytes));
    return charge(1 + bytes / 32);
  }
  // Charges for building a container of `items` items and checks its size.
  Status charge_items(size_t items) {
    if (items > limits_.max_container_items) {
      return resource_exhausted("template built a container of {} items, over the limit of {}",
                                items, limits_.max_container_items);
    }
    return charge(1 + items);
  }
  Status count_loop_iteration() {
    if (++loop_iterations_ > limits_.max_loop_iterations) {
      return resource_exhausted("template exceeded the limit of {} loop iterations",
                                limits_.max_loop_iterations);
    }
    return charge(1);
  }

 private:
  Limits limits_;
  uint64_t steps_ = 0;
  uint64_t loop_iterations_ = 0;
};

}  // namespace inferd::chat::jinja

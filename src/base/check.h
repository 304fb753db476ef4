// INFERD_CHECK: broken invariants abort with a message (DESIGN.md section 6.5). Never use it for
// conditions that input can cause; those are Status values.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace inferd::detail {
[[noreturn]] void check_failed(const char* file, int line, const char* expr, const char* msg);
}  // namespace inferd::detail

#define INFERD_CHECK(cond)                                                           \
  do {                                                                               \
    if (__builtin_expect(!(cond), 0))                                                \
      ::inferd::detail::check_failed(__FILE__, __LINE__, #cond, nullptr);            \
  } while (0)
#define INFERD_CHECK_MSG(cond, msg)                                                  \
  do {                                                                               \
    if (__builtin_expect(!(cond), 0))                                                \
      ::inferd::detail::check_failed(__FILE__, __LINE__, #cond, msg);                \
  } while (0)

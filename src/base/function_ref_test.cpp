#include "base/function_ref.h"

#include <gtest/gtest.h>

#include <string>

namespace inferd {
namespace {

int apply(FunctionRef<int(int)> f, int x) {
  return f(x);
}

TEST(FunctionRef, CallsTheReferencedCallableWithItsState) {
  int calls = 0;
  const auto add = [&](int x) {
    ++calls;
    return x + 10;
  };
  EXPECT_EQ(apply(add, 1), 11);
  EXPECT_EQ(apply([&](int x) { return add(x) * 3; }, 2), 36);
  EXPECT_EQ(calls, 2) << "the lambda is referenced, not copied";
}

TEST(FunctionRef, ForwardsArgumentsAndConvertsTheResult) {
  std::string seen;
  const auto append = [&](const std::string& s) -> size_t {
    seen += s;
    return seen.size();
  };
  const FunctionRef<long(const std::string&)> f = append;
  EXPECT_EQ(f("ab"), 2);
  EXPECT_EQ(f("cde"), 5);
  EXPECT_EQ(seen, "abcde");
  const FunctionRef<long(const std::string&)> copy = f;  // copies the reference
  EXPECT_EQ(copy("f"), 6);
}

}  // namespace
}  // namespace inferd

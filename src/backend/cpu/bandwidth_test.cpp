#include "backend/cpu/bandwidth.h"

#include <gtest/gtest.h>

#include <cmath>

namespace inferd::backend::cpu {
namespace {

// The full measurement takes about a second and depends on the machine; here only the
// mechanics: a small buffer (odd size, rounded to pages), one and several threads (more threads
// than cores included, so no lower bound on the rate holds on a busy machine).
TEST(Bandwidth, MeasuresAPositiveFiniteRate) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    const double gbps = measure_read_bandwidth_gbps(pool, (8 << 20) + 100, 2);
    EXPECT_TRUE(std::isfinite(gbps));
    EXPECT_GT(gbps, 0.0);
  }
}

}  // namespace
}  // namespace inferd::backend::cpu

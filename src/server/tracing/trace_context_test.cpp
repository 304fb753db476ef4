#include "server/tracing/trace_context.h"

#include <gtest/gtest.h>

namespace inferd::server::tracing {
namespace {

constexpr std::string_view kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, ParsesAValidTraceparent) {
  auto p = parse_traceparent(kValid);
  ASSERT_TRUE(p);
  EXPECT_EQ(to_hex(p->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(to_hex(p->parent_id), "00f067aa0ba902b7");
  EXPECT_EQ(p->flags, 1);
}

TEST(TraceContextTest, RejectsMalformedValues) {
  const char* bad[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",          // short
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",   // v00 with more
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",         // uppercase
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",         // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",         // zero parent id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // forbidden version
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // separator
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",         // not hex
      "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",        // later version, no '-'
  };
  for (const char* v : bad) EXPECT_FALSE(parse_traceparent(v)) << v;
  // A later version may carry more fields.
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-abc"));
}

TEST(TraceContextTest, ContinuesAnIncomingTrace) {
  const TraceContext c = start_server_trace(kValid);
  EXPECT_EQ(c.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(c.parent_span_id_hex(), "00f067aa0ba902b7");
  EXPECT_TRUE(c.sampled());
  EXPECT_NE(c.span_id_hex(), "00f067aa0ba902b7");
  EXPECT_EQ(c.traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-" + c.span_id_hex() + "-01");
  EXPECT_TRUE(parse_traceparent(c.traceparent()));

  const TraceContext unsampled =
      start_server_trace("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  EXPECT_FALSE(unsampled.sampled());
}

TEST(TraceContextTest, InvalidOrMissingStartsANewTrace) {
  for (std::optional<std::string_view> in :
       {std::optional<std::string_view>(), std::optional<std::string_view>("garbage")}) {
    const TraceContext c = start_server_trace(in);
    EXPECT_FALSE(c.has_parent());
    EXPECT_TRUE(c.sampled());
    EXPECT_EQ(c.parent_span_id_hex(), "");
    EXPECT_EQ(c.trace_id_hex().size(), 32u);
    EXPECT_NE(c.trace_id_hex(), std::string(32, '0'));
  }
  EXPECT_NE(new_trace_id(), new_trace_id());
  EXPECT_NE(new_span_id(), new_span_id());
}

}  // namespace
}  // namespace inferd::server::tracing

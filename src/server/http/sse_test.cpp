#include "server/http/sse.h"

#include <gtest/gtest.h>

namespace inferd::server {
namespace {

TEST(Sse, DataFrames) {
  EXPECT_EQ(sse_data("{\"a\":1}"), "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse_data(""), "data: \n\n");
  EXPECT_EQ(sse_data("a\nb\r\nc\rd"), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(kSseDone, "data: [DONE]\n\n");
}

TEST(Sse, EventsCommentsAndErrors) {
  EXPECT_EQ(sse_event("error", "{}"), "event: error\ndata: {}\n\n");
  EXPECT_EQ(sse_event("a\nb", "x"), "event: a b\ndata: x\n\n");
  EXPECT_EQ(sse_comment("ping"), ": ping\n\n");
  EXPECT_EQ(sse_error(server_error("boom")),
            "event: error\ndata: {\"error\":{\"code\":null,\"message\":\"boom\",\"param\":null,"
            "\"type\":\"server_error\"}}\n\n");
  const HeaderList h = sse_headers();
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"Content-Type", "text/event-stream"}));
}

}  // namespace
}  // namespace inferd::server

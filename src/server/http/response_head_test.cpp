#include "server/http/response_head.h"

#include <gtest/gtest.h>

#include "server/http/header_map.h"
#include "server/http/request_id.h"

namespace inferd::server {
namespace {

// The head without its Date line (which changes every second).
std::string without_date(std::string head) {
  const size_t pos = head.find("Date: ");
  const size_t end = head.find("\r\n", pos);
  return head.erase(pos, end + 2 - pos);
}

TEST(ResponseHead, ContentLengthKeepAlive) {
  const HeaderList extra = {{"Retry-After", "2"}};
  ResponseHead h;
  h.status = 429;
  h.content_type = "application/json";
  h.headers = &extra;
  h.request_id = "req_1";
  h.content_length = 12;
  EXPECT_EQ(without_date(format_response_head(h)),
            "HTTP/1.1 429 Too Many Requests\r\nServer: inferd\r\nX-Request-Id: req_1\r\n"
            "Content-Type: application/json\r\nRetry-After: 2\r\nContent-Length: 12\r\n\r\n");
}

TEST(ResponseHead, ChunkedCloseAndHttp10) {
  ResponseHead h;
  h.framing = BodyFraming::kChunked;
  h.keep_alive = false;
  EXPECT_EQ(without_date(format_response_head(h)),
            "HTTP/1.1 200 OK\r\nServer: inferd\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n");
  ResponseHead k;
  k.http10 = true;
  EXPECT_EQ(without_date(format_response_head(k)),
            "HTTP/1.1 200 OK\r\nServer: inferd\r\nContent-Length: 0\r\n"
            "Connection: keep-alive\r\n\r\n");
  ResponseHead u;
  u.framing = BodyFraming::kUntilClose;
  EXPECT_EQ(without_date(format_response_head(u)),
            "HTTP/1.1 200 OK\r\nServer: inferd\r\nConnection: close\r\n\r\n");
  ResponseHead n;
  n.status = 204;
  EXPECT_EQ(without_date(format_response_head(n)),
            "HTTP/1.1 204 No Content\r\nServer: inferd\r\n\r\n");
}

TEST(ResponseHead, DateReasonAndChunks) {
  EXPECT_EQ(format_http_date(std::chrono::system_clock::from_time_t(784111777)),
            "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(299), "Unknown");
  std::string out;
  append_chunk(out, std::string(26, 'x'));
  EXPECT_EQ(out, "1a\r\n" + std::string(26, 'x') + "\r\n");
}

TEST(HeaderMap, CaseInsensitiveLookup) {
  HeaderMap m;
  m.add("Content-Type", "application/json");
  m.add("X-Multi", "a");
  m.add("x-multi", "b");
  EXPECT_EQ(m.get("content-TYPE").value_or(""), "application/json");
  EXPECT_EQ(m.get_all("X-MULTI"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_FALSE(m.get("missing").has_value());
  EXPECT_EQ(m.get_or("missing", "d"), "d");
  EXPECT_TRUE(is_valid_header_name("X-Request-Id"));
  EXPECT_FALSE(is_valid_header_name("X Request"));
  EXPECT_FALSE(is_valid_header_name(""));
  EXPECT_TRUE(is_valid_header_value("a\tb"));
  EXPECT_FALSE(is_valid_header_value("a\nb"));
}

TEST(RequestId, GeneratedAndAccepted) {
  const std::string a = new_request_id();
  const std::string b = new_request_id();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a.rfind("req_", 0), 0u);
  EXPECT_TRUE(is_acceptable_request_id(a));
  EXPECT_TRUE(is_acceptable_request_id("3f2a-11:ee.x_y"));
  EXPECT_FALSE(is_acceptable_request_id(""));
  EXPECT_FALSE(is_acceptable_request_id("has space"));
  EXPECT_FALSE(is_acceptable_request_id("a\r\nb"));
  EXPECT_FALSE(is_acceptable_request_id(std::string(129, 'a')));
}

}  // namespace
}  // namespace inferd::server

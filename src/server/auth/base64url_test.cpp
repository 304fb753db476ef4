#include "server/auth/base64url.h"

#include <gtest/gtest.h>

namespace inferd::server::auth {
namespace {

TEST(Base64UrlTest, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    const std::string encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.find_first_of("=+/"), std::string::npos);
    auto decoded = base64url_decode(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
    EXPECT_EQ(decoded.value(), bytes);
    bytes += static_cast<char>(i * 37 + 11);
  }
}

TEST(Base64UrlTest, KnownVectors) {
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8").value(), "\xfb\xff");
}

TEST(Base64UrlTest, RefusesNonCanonicalText) {
  // Padding, impossible lengths, the standard alphabet, white space, non-ASCII; "Zh" and "Zm9"
  // have non-zero unused bits (the canonical forms are "Zg" and "Zm8").
  for (const char* bad : {"Zg==", "Zm9v=", "Z", "Zm9vY", "Zm+v", "Zm/v", "Zm 9v", "Zm9v\n", "Zh",
                          "Zm9", "\xc3\xa9\xc3\xa9"}) {
    EXPECT_FALSE(base64url_decode(bad).ok()) << bad;
  }
  EXPECT_TRUE(base64url_decode("").ok());
}

}  // namespace
}  // namespace inferd::server::auth

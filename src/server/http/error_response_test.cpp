#include "server/http/error_response.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/http/recording_exchange.h"

namespace inferd::server {
namespace {

TEST(ErrorResponse, TypeFollowsStatus) {
  EXPECT_EQ(error_type_for_status(400), "invalid_request_error");
  EXPECT_EQ(error_type_for_status(401), "authentication_error");
  EXPECT_EQ(error_type_for_status(403), "permission_error");
  EXPECT_EQ(error_type_for_status(404), "invalid_request_error");
  EXPECT_EQ(error_type_for_status(405), "invalid_request_error");
  EXPECT_EQ(error_type_for_status(413), "invalid_request_error");
  EXPECT_EQ(error_type_for_status(429), "rate_limit_error");
  EXPECT_EQ(error_type_for_status(500), "server_error");
  EXPECT_EQ(error_type_for_status(503), "server_error");
}

TEST(ErrorResponse, EnvelopeHasAllFourFields) {
  const auto j = nlohmann::json::parse(error_json(invalid_request_error(
      "messages must not be empty", std::string("messages"), std::string("empty_messages"))));
  const auto& e = j.at("error");
  EXPECT_EQ(e.at("message"), "messages must not be empty");
  EXPECT_EQ(e.at("type"), "invalid_request_error");
  EXPECT_EQ(e.at("param"), "messages");
  EXPECT_EQ(e.at("code"), "empty_messages");

  const auto k = nlohmann::json::parse(error_json(server_error("boom")));
  EXPECT_TRUE(k.at("error").at("param").is_null());
  EXPECT_TRUE(k.at("error").at("code").is_null());
  EXPECT_EQ(k.at("error").at("type"), "server_error");

  ApiError custom = not_found_error("The model 'x' does not exist", std::string("model_not_found"));
  custom.type = "not_found_error";
  EXPECT_EQ(nlohmann::json::parse(error_json(custom))["error"]["type"], "not_found_error");
}

TEST(ErrorResponse, InvalidUtf8InMessageIsReplaced) {
  const std::string json = error_json(invalid_request_error("bad \xff byte"));
  const auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded());
}

TEST(ErrorResponse, RetryAfterAndRespond) {
  const ApiError limited = rate_limit_error("slow down", 7);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(error_headers(limited), (HeaderList{{"Retry-After", "7"}}));
  EXPECT_EQ(error_headers(overloaded_error("busy", 3)), (HeaderList{{"Retry-After", "3"}}));
  EXPECT_TRUE(error_headers(server_error("x")).empty());

  RecordingExchange ex;
  ASSERT_TRUE(respond_error(ex, limited).ok());
  const auto rec = ex.recorded();
  EXPECT_EQ(rec.status, 429);
  EXPECT_EQ(rec.content_type, "application/json");
  EXPECT_EQ(rec.headers, (HeaderList{{"Retry-After", "7"}}));
  EXPECT_EQ(nlohmann::json::parse(rec.body)["error"]["type"], "rate_limit_error");
}

TEST(ErrorResponse, FromStatus) {
  ApiError e =
      api_error_from_status(invalid_argument("must be between 0 and 2").with_field("temperature"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.message, "must be between 0 and 2");
  EXPECT_EQ(e.param.value_or(""), "temperature");
  EXPECT_EQ(nlohmann::json::parse(error_json(e))["error"]["type"], "invalid_request_error");

  e = api_error_from_status(not_found("model 'x' is not loaded"));
  EXPECT_EQ(e.status, 404);
  EXPECT_FALSE(e.param.has_value());
  EXPECT_EQ(api_error_from_status(unsupported("logprobs")).status, 400);
  EXPECT_EQ(api_error_from_status(resource_exhausted("queue full")).status, 503);

  e = api_error_from_status(io_error("cannot read /secret/path"));
  EXPECT_EQ(e.status, 500);
  EXPECT_EQ(e.message.find("/secret"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(error_json(e))["error"]["type"], "server_error");
}

TEST(ErrorResponse, Constructors) {
  EXPECT_EQ(authentication_error("no key").status, 401);
  EXPECT_EQ(permission_error("no").status, 403);
  EXPECT_EQ(unknown_url_error("POST", "/v1/x").message, "Invalid URL (POST /v1/x)");
  EXPECT_EQ(method_not_allowed_error("GET", "/v1/x").status, 405);
  EXPECT_EQ(payload_too_large_error(10).status, 413);
  EXPECT_EQ(overloaded_error("busy", 1).status, 503);
}

}  // namespace
}  // namespace inferd::server

#include "server/api/openai/chat_request.h"

#include <gtest/gtest.h>

#include "server/api/openai/completion_request.h"

namespace inferd::server::openai {
namespace {

Result<ChatRequest> chat(const char* body) {
  auto j = parse_json_object(body);
  if (!j.ok()) return j.status();
  return parse_chat_request(*j);
}

// The error's field for a request that must be rejected.
std::string bad_field(const char* body) {
  auto r = chat(body);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? "" : r.status().field();
}

TEST(ChatRequest, ParsesAFullRequest) {
  auto r = chat(R"({"model":"m","messages":[{"role":"system","content":"be brief"},
    {"role":"user","content":[{"type":"text","text":"hi"}]},
    {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
      "function":{"name":"f","arguments":{"x":1}}}]},
    {"role":"tool","tool_call_id":"c1","content":"42"}],
    "temperature":0.5,"top_p":0.9,"top_k":-1,"max_completion_tokens":20,"n":2,"stop":["\n\n"],
    "seed":-3,"logprobs":true,"top_logprobs":3,"stream":true,"stream_options":{"include_usage":true},
    "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
    "tool_choice":{"type":"function","function":{"name":"f"}},
    "response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}},
    "logit_bias":{"15":-100},"unknown_field":{"ignored":true}})");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->gen.model, "m");
  EXPECT_FLOAT_EQ(r->gen.sampling.temperature, 0.5f);
  EXPECT_EQ(r->gen.sampling.top_k, 0);
  EXPECT_EQ(*r->gen.max_tokens, 20);
  EXPECT_EQ(r->gen.n, 2);
  EXPECT_EQ(r->gen.stop, std::vector<std::string>{"\n\n"});
  EXPECT_EQ(*r->gen.sampling.seed, static_cast<uint64_t>(-3));
  EXPECT_TRUE(r->gen.sampling.logprobs);
  EXPECT_EQ(r->gen.sampling.num_top_logprobs, 3);
  EXPECT_TRUE(r->gen.stream && r->gen.include_usage);
  EXPECT_EQ(r->tool_choice, ToolChoice::kFunction);
  EXPECT_EQ(r->response_format, ResponseFormat::kJsonSchema);
  ASSERT_EQ(r->gen.sampling.logit_bias.size(), 1u);
  EXPECT_EQ(r->messages[2]["tool_calls"][0]["function"]["arguments"], "{\"x\":1}");
}

TEST(ChatRequest, RejectsBadFieldsNamingThem) {
  EXPECT_EQ(bad_field(R"({"messages":[]})"), "messages");
  EXPECT_EQ(bad_field(R"({"model":"m"})"), "messages");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"wizard","content":"x"}]})"), "messages[0].role");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user"}]})"), "messages[0].content");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})"),
            "messages[0].content[0].type");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})"), "temperature");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user","content":"x"}],"temperature":1e300})"), "temperature");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})"), "max_tokens");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user","content":"x"}],"n":1000})"), "n");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user","content":"x"}],"logit_bias":{"a":1}})"), "logit_bias");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":2})"), "top_logprobs");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user","content":"x"}],"tool_choice":"required"})"), "tool_choice");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user","content":"x"}],"stop":[1]})"), "stop");
  EXPECT_EQ(bad_field(R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}})"),
            "response_format");
}

TEST(ChatRequest, RejectsMalformedBodies) {
  EXPECT_FALSE(parse_json_object("").ok());
  EXPECT_FALSE(parse_json_object("{").ok());
  EXPECT_FALSE(parse_json_object("[1,2]").ok());
  EXPECT_FALSE(parse_json_object("{\"a\":\"\xff\"}").ok());  // invalid UTF-8
  EXPECT_FALSE(parse_json_object(std::string(100000, '[')).ok());
  std::string deep = "{\"a\":" + std::string(60, '[') + std::string(60, ']') + "}";
  EXPECT_TRUE(parse_json_object(deep).ok());
}

TEST(CompletionRequest, AcceptsEveryPromptShape) {
  for (const char* body : {R"({"prompt":"hi"})", R"({"prompt":["a","b"]})", R"({"prompt":[1,2,3]})",
                           R"({"prompt":[[1,2],[3]]})"}) {
    auto j = parse_json_object(body);
    ASSERT_TRUE(j.ok());
    auto r = parse_completion_request(*j);
    EXPECT_TRUE(r.ok()) << body << ": " << r.status().to_string();
  }
  auto j = parse_json_object(R"({"prompt":"x","echo":true,"logprobs":1,"max_tokens":0})");
  auto r = parse_completion_request(*j);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->echo);
  EXPECT_EQ(r->logprobs, 1);
  EXPECT_EQ(*r->gen.max_tokens, 0);
}

TEST(CompletionRequest, RejectsBadPrompts) {
  for (const char* body : {R"({})", R"({"prompt":[]})", R"({"prompt":[-1]})", R"({"prompt":[{"a":1}]})",
                           R"({"prompt":"x","max_tokens":0})", R"({"prompt":"x","suffix":"y"})"}) {
    auto j = parse_json_object(body);
    ASSERT_TRUE(j.ok());
    EXPECT_FALSE(parse_completion_request(*j).ok()) << body;
  }
}

TEST(EmbeddingRequest, ParsesInputsAndFormat) {
  auto j = parse_json_object(R"({"input":["a","b"],"encoding_format":"base64"})");
  auto r = parse_embedding_request(*j);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->inputs.size(), 2u);
  EXPECT_TRUE(r->base64);
  j = parse_json_object(R"({"input":"a","encoding_format":"hex"})");
  EXPECT_EQ(parse_embedding_request(*j).status().field(), "encoding_format");
}

}  // namespace
}  // namespace inferd::server::openai

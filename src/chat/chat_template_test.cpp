#include "chat/chat_template.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace inferd::chat {
namespace {

using json = nlohmann::ordered_json;

Result<std::string> render(const ChatTemplate& t, const json& messages, const json* tools = nullptr,
                           bool add_generation_prompt = true, const json* extra = nullptr) {
  ChatRequestView request;
  request.messages = &messages;
  request.tools = tools;
  request.extra = extra;
  request.add_generation_prompt = add_generation_prompt;
  request.bos_token = "<s>";
  request.eos_token = "</s>";
  request.now = 0;
  return t.render(request);
}

ChatTemplate parse(const std::string& source) {
  auto t = ChatTemplate::parse(source);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return std::move(t).value();
}

TEST(ChatTemplateTest, RendersMessagesAndSpecialTokens) {
  const ChatTemplate t = parse(
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
      "{% if add_generation_prompt %}[assistant]{% endif %}{{ tools is none }}{{ documents is none "
      "}}");
  const json messages = json::parse(R"([{"role": "user", "content": "hi"}])");
  auto out = render(t, messages);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(*out, "<s>[user]hi[assistant]TrueTrue");
  auto no_prompt = render(t, messages, nullptr, false);
  ASSERT_TRUE(no_prompt.ok());
  EXPECT_EQ(*no_prompt, "<s>[user]hiTrueTrue");
}

TEST(ChatTemplateTest, JoinsContentPartsForStringTemplates) {
  const ChatTemplate t = parse("{% for m in messages %}{{ m.content }}|{% endfor %}");
  EXPECT_FALSE(t.caps().iterates_content);
  const json messages = json::parse(R"([
    {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    {"role": "assistant", "content": null}])");
  auto out = render(t, messages);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(*out, "ab|None|");
}

TEST(ChatTemplateTest, RejectsNonTextPartsForStringTemplates) {
  const ChatTemplate t = parse("{{ messages[0].content }}");
  const json messages = json::parse(R"([{"role": "user", "content": [
    {"type": "image_url", "image_url": {"url": "x"}}]}])");
  auto out = render(t, messages);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(out.status().message().find("image_url"), std::string::npos);
}

TEST(ChatTemplateTest, PassesContentPartsToTemplatesThatIterateThem) {
  for (const char* source : {
           "{% for m in messages %}{% for p in m.content %}<{{ p.type }}>{% endfor %}{% endfor %}",
           "{% for m in messages %}{% set c = m['content'] %}{% for p in c %}<{{ p.type }}>{% "
           "endfor %}{% endfor %}",
       }) {
    const ChatTemplate t = parse(source);
    EXPECT_TRUE(t.caps().iterates_content) << source;
    const json messages = json::parse(R"([{"role": "user", "content": [
      {"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}}]}])");
    auto out = render(t, messages);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    EXPECT_EQ(*out, "<text><image_url>");
  }
}

TEST(ChatTemplateTest, ParsesArgumentsForTemplatesThatDumpThem) {
  const ChatTemplate t = parse(
      "{% for m in messages %}{% for c in m.tool_calls | default([]) %}"
      "{{ c.function.arguments | tojson }}{% endfor %}{% endfor %}");
  EXPECT_TRUE(t.caps().object_arguments);
  const json messages = json::parse(R"([{"role": "assistant", "content": null, "tool_calls": [
    {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{\"b\": 1, \"a\": [true]}"}},
    {"id": "2", "type": "function", "function": {"name": "g", "arguments": "not json"}}]}])");
  auto out = render(t, messages);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  // Key order kept; unparsable arguments stay strings.
  EXPECT_EQ(*out, R"({"b": 1, "a": [true]}"not json")");
}

TEST(ChatTemplateTest, KeepsArgumentStringsForTemplatesThatConcatenateThem) {
  const ChatTemplate t = parse(
      "{% for m in messages %}{% for c in m.tool_calls | default([]) %}"
      "{{ 'call ' + c.function.arguments }}{% endfor %}{% endfor %}");
  EXPECT_FALSE(t.caps().object_arguments);
  const json messages = json::parse(R"([{"role": "assistant", "tool_calls": [
    {"type": "function", "function": {"name": "f", "arguments": "{\"x\": 1}"}},
    {"type": "function", "function": {"name": "g", "arguments": {"y": [1, 2], "z": "é"}}}]}])");
  auto out = render(t, messages);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(*out, R"(call {"x": 1}call {"y": [1, 2], "z": "é"})");
}

TEST(ChatTemplateTest, ToolsKeepKeyOrderAndExtraVariablesApply) {
  const ChatTemplate t =
      parse("{{ tools | tojson }}|{{ date_string }}|{{ add_generation_prompt }}");
  const json messages = json::array();
  const json tools = json::parse(R"([{"type": "function", "function": {"name": "f", "parameters":
    {"type": "object", "properties": {"z": {}, "a": {}}}}}])");
  const json extra =
      json::parse(R"({"date_string": "01 Jan 2025", "add_generation_prompt": false})");
  auto out = render(t, messages, &tools, true, &extra);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(
      *out,
      R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"z": {}, "a": {}}}}}]|01 Jan 2025|False)");
}

TEST(ChatTemplateTest, InvalidRequestsAreErrors) {
  const ChatTemplate t = parse("{{ messages }}");
  ChatRequestView request;
  EXPECT_FALSE(t.render(request).ok());
  const json not_array = json::object();
  EXPECT_FALSE(render(t, not_array).ok());
  const json bad_message = json::array({1});
  EXPECT_FALSE(render(t, bad_message).ok());
  const json messages = json::array();
  const json bad_tools = json::object();
  EXPECT_FALSE(render(t, messages, &bad_tools).ok());
  const json bad_extra = json::array();
  EXPECT_FALSE(render(t, messages, nullptr, true, &bad_extra).ok());
}

TEST(ChatTemplateTest, TemplateErrorsAreStatuses) {
  auto bad = ChatTemplate::parse("{% for m in messages %}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("chat template"), std::string::npos);
  const ChatTemplate t =
      parse("{% if messages | length > 1 %}{{ raise_exception('too many') }}{% endif %}");
  const json messages = json::parse(R"([{"role": "user"}, {"role": "user"}])");
  auto out = render(t, messages);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "too many");
}

TEST(ChatTemplateTest, DeeplyNestedRequestJsonIsAnError) {
  const ChatTemplate t = parse("{% for m in messages %}{{ m.content }}{% endfor %}");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  for (const std::string& message : {
           R"({"role": "user", "content": )" + deep + "}",
           R"({"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": )" +
               deep + "}}]}",
       }) {
    const json messages = json::parse("[" + message + "]");
    auto out = render(t, messages);
    EXPECT_FALSE(out.ok());
  }
  const ChatTemplate object_args =
      parse("{{ messages[-1].tool_calls[0].function.arguments | tojson }}");
  ASSERT_TRUE(object_args.caps().object_arguments);
  const json messages = json::parse(
      R"([{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": ")" +
      std::string(100000, '[') + std::string(100000, ']') + R"("}}]}])");
  EXPECT_TRUE(render(object_args, messages).ok());  // not a JSON object: stays a string
  std::string obj;
  for (int i = 0; i < 50000; ++i) obj += R"({\"a\": )";
  obj += "1";
  obj += std::string(50000, '}');
  const json deep_args = json::parse(
      R"([{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": ")" + obj +
      R"("}}]}])");
  EXPECT_FALSE(render(object_args, deep_args).ok());
}

TEST(ChatTemplateTest, LimitsApply) {
  ChatTemplate t = parse("{% for i in range(100000) %}x{% endfor %}");
  jinja::Limits limits;
  limits.max_output_bytes = 1000;
  t.set_limits(limits);
  auto out = render(t, json::array());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
}

TEST(ChatTemplateTest, ChatmlFallback) {
  const ChatTemplate& t = ChatTemplate::chatml();
  const json messages = json::parse(R"([
    {"role": "system", "content": "sys"},
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": null, "tool_calls": [
      {"type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
    {"role": "tool", "content": "42"}])");
  auto out = render(t, messages);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(*out,
            "<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": "
            "1}}\n</tool_call><|im_end|>\n"
            "<|im_start|>tool\n42<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, ConcurrentRendersShareOneTemplate) {
  const ChatTemplate t = parse(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ "
      "ns.n }}");
  const json messages =
      json::parse(R"([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])");
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 200; ++k) {
        auto out = render(t, messages);
        if (out.ok() && *out == "2") ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 800);
}

}  // namespace
}  // namespace inferd::chat

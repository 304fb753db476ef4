// `inferd config check` on the example and on broken files, and `inferd serve --config` with
// two fixture models managed by `inferd models list|show|load|unload` and its environment
// overrides.
#include <csignal>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/http_request.h"
#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {



std::string write_file(const std::string& name, const std::string& text) {
  const auto path = testing::temp_dir() / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(ConfigCommandTest, TheExampleConfigPasses) {
  const auto example = (testing::source_dir() / "config/inferd.example.yaml").string();
  const auto r = testing::run_process({testing::inferd_binary(), "config", "check", example});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ok (4 models, 6 services)"), std::string::npos) << r.out;
  // Its model files are not in the repository: said, but not an error.
  EXPECT_NE(r.err.find("warning: models[0].path: no such file"), std::string::npos) << r.err;
}

TEST(ConfigCommandTest, ABrokenConfigNamesTheBadField) {
  const std::string broken = write_file("broken.yaml", R"(server:
  port: 8080
models:
  - {id: a, path: a.gguf}
  - {id: b, path: b.gguf}
  - {id: c, path: c.gguf, context: large}
)");
  auto r = testing::run_process({testing::inferd_binary(), "config", "check", broken});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("models[2].context: expected an integer"), std::string::npos) << r.err;

  const std::string dangling = write_file("dangling.yaml", R"(models:
  - {id: a, path: a.gguf, fallbacks: [b]}
services:
  - {name: vista, default_model: a}
  - {name: whisp, allowed_models: [a, zz]}
)");
  r = testing::run_process({testing::inferd_binary(), "config", "check", dangling});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("models[0].fallbacks[0]: unknown model 'b'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("services[1].allowed_models[1]: unknown model 'zz'"), std::string::npos)
      << r.err;

  r = testing::run_process(
      {testing::inferd_binary(), "config", "check", "/nonexistent/inferd.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
}

TEST(ConfigCommandTest, ServesAConfigAndManagesItsModelsFromTheCommandLine) {
  INFERD_REQUIRE_SHARED(model, "fixtures/fixture-llama-q4_0.gguf");
  const std::string config = write_file("serve.yaml", R"(server:
  port: 1          # replaced by the environment below
models:
  - id: first
    path: )" + model.string() + R"(
    aliases: [one]
    context: 128     # replaced by --set below
    max_concurrent: 1
    threads: 1
  - id: second
    path: )" + model.string() + R"(
    context: 256
    max_concurrent: 1
    threads: 1
services:
  - {name: vista, default_model: second}
)");
  const uint16_t port = testing::free_port();
  const std::string server_url = "http://127.0.0.1:" + std::to_string(port);
  testing::ChildProcess server(
      {"/usr/bin/env", "INFERD_PORT=" + std::to_string(port), testing::inferd_binary(), "serve",
       "--config", config, "--no-access-log", "--set", "models.first.context=256"},
      (testing::temp_dir() / "serve-config.log").string());
  ASSERT_TRUE(server.started());
  testing::ProcessResult list;
  for (int i = 0; i < 200; ++i) {
    list = testing::run_process(
        {testing::inferd_binary(), "models", "--server", server_url, "list", "--json"});
    if (list.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(list.exit_code, 0) << list.err << server.log();
  const auto models = nlohmann::json::parse(list.out, nullptr, false);
  ASSERT_TRUE(models.is_object()) << list.out;
  ASSERT_EQ(models["data"].size(), 2u);
  EXPECT_EQ(models["data"][0]["state"], "available");

  auto r = testing::run_process(
      {testing::inferd_binary(), "models", "--server", server_url, "load", "one"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("first: loaded"), std::string::npos) << r.out;
  r = testing::run_process({testing::inferd_binary(), "models", "--server", server_url, "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("first"), std::string::npos);
  EXPECT_NE(r.out.find("loaded"), std::string::npos) << r.out;
  r = testing::run_process(
      {testing::inferd_binary(), "models", "--server", server_url, "show", "first"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false)["meta"]["n_ctx"], 256) << r.out;
  r = testing::run_process(
      {testing::inferd_binary(), "models", "--server", server_url, "unload", "first"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("first: available"), std::string::npos) << r.out;
  r = testing::run_process(
      {testing::inferd_binary(), "models", "--server", server_url, "unload", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("HTTP 404"), std::string::npos) << r.err;

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(15000), 0) << server.log();
}

TEST(ConfigCommandTest, ScansAModelsDirectory) {
  INFERD_REQUIRE_SHARED(model, "fixtures/fixture-llama-q4_0.gguf");
  const auto dir = testing::temp_dir() / "models";
  std::filesystem::create_directories(dir / "hf-model");
  std::filesystem::copy_file(model, dir / "small.gguf");
  std::ofstream(dir / "hf-model" / "config.json") << R"({"architectures": ["Qwen2ForCausalLM"]})";
  std::ofstream(dir / "hf-model" / "model.safetensors") << "12345678";
  std::ofstream(dir / "notes.txt") << "not a model";
  const auto r =
      testing::run_process({testing::inferd_binary(), "models", "scan", dir.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto found = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(found.is_array()) << r.out;
  ASSERT_EQ(found.size(), 2u) << r.out;
  EXPECT_EQ(found[0]["format"], "safetensors");
  EXPECT_EQ(found[0]["architecture"], "Qwen2ForCausalLM");
  EXPECT_EQ(found[0]["size_bytes"],
            8 + std::filesystem::file_size(dir / "hf-model" / "config.json"));
  EXPECT_EQ(found[1]["format"], "gguf");
  EXPECT_EQ(found[1]["architecture"], "llama");
  EXPECT_EQ(found[1]["size_bytes"], std::filesystem::file_size(model));
}

}  // namespace
}  // namespace inferd

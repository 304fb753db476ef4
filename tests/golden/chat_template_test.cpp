// Renders every (template, conversation) pair with ChatTemplate and compares byte for byte with
// the output Python's jinja2 produced in Hugging Face's environment
// (tests/data/chat/expected/<template>__<conversation>.txt, or .error when jinja2 raised; then
// our render must fail too). Templates: ../shared/templates/*.jinja and
// tests/data/chat/templates/*.jinja. Expected files: scripts/render_chat_templates.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "testing/test_paths.h"

namespace inferd::chat {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

fs::path data_dir() {
  return testing::source_dir() / "tests" / "data" / "chat";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::map<std::string, fs::path> files_in(const fs::path& dir, const std::string& extension) {
  std::map<std::string, fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == extension) out[entry.path().stem().string()] = entry.path();
  }
  return out;
}

std::time_t fixed_now() {
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 8;
  tm.tm_mday = 26;
  tm.tm_hour = 12;
  tm.tm_isdst = -1;
  return std::mktime(&tm);
}

// Renders all conversations with one template and compares with the expected files.
void check_template(const std::string& stem, const fs::path& path, int& compared) {
  const auto parsed = ChatTemplate::parse(read_file(path));
  ASSERT_TRUE(parsed.ok()) << stem << ": " << parsed.status().to_string();
  // The capabilities the Python reference detected for the same template.
  const json caps = json::parse(read_file(data_dir() / "expected" / "capabilities.json"), nullptr,
                                /*allow_exceptions=*/false);
  ASSERT_TRUE(caps.is_object() && caps.contains(stem)) << "no capabilities for " << stem;
  EXPECT_EQ(parsed->caps().iterates_content, caps[stem]["iterates_content"].get<bool>()) << stem;
  EXPECT_EQ(parsed->caps().object_arguments, caps[stem]["object_arguments"].get<bool>()) << stem;
  const auto conversations = files_in(data_dir() / "conversations", ".json");
  ASSERT_FALSE(conversations.empty());
  for (const auto& [conv_stem, conv_path] : conversations) {
    const json conv = json::parse(read_file(conv_path), nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(conv.is_object()) << conv_path;
    const json& messages = conv["messages"];
    const json tools = conv.contains("tools") ? conv["tools"] : json(nullptr);
    const json extra = conv.contains("extra") ? conv["extra"] : json::object();
    const std::string bos = conv.value("bos_token", std::string("<s>"));
    const std::string eos = conv.value("eos_token", std::string("</s>"));
    ChatRequestView request;
    request.messages = &messages;
    request.tools = &tools;
    request.extra = &extra;
    request.add_generation_prompt = conv.value("add_generation_prompt", true);
    request.bos_token = bos;
    request.eos_token = eos;
    request.now = fixed_now();
    const auto rendered = parsed->render(request);

    const fs::path base = data_dir() / "expected" / (stem + "__" + conv_stem);
    if (fs::exists(base.string() + ".txt")) {
      const std::string want = read_file(base.string() + ".txt");
      if (!rendered.ok()) {
        ADD_FAILURE() << stem << " x " << conv_stem
                      << ": jinja2 rendered it, we failed: " << rendered.status().to_string();
      } else if (*rendered != want) {
        const auto mismatch =
            std::mismatch(want.begin(), want.end(), rendered->begin(), rendered->end());
        const size_t at = static_cast<size_t>(mismatch.first - want.begin());
        ADD_FAILURE() << stem << " x " << conv_stem << ": output differs at byte " << at
                      << "\n  want: " << json(want.substr(at > 40 ? at - 40 : 0, 120)).dump()
                      << "\n  got:  " << json(rendered->substr(at > 40 ? at - 40 : 0, 120)).dump();
      }
    } else if (fs::exists(base.string() + ".error")) {
      EXPECT_FALSE(rendered.ok()) << stem << " x " << conv_stem << ": jinja2 failed ("
                                  << read_file(base.string() + ".error") << ") but we rendered:\n"
                                  << *rendered;
    } else {
      ADD_FAILURE() << "no expected output for " << base
                    << "; run scripts/render_chat_templates.py";
    }
    ++compared;
  }
}

TEST(ChatTemplateGoldenTest, SharedTemplatesMatchJinja2) {
  INFERD_REQUIRE_SHARED(dir, "templates");
  int compared = 0;
  const auto templates = files_in(dir, ".jinja");
  ASSERT_GE(templates.size(), 10u);
  for (const auto& [stem, path] : templates) check_template(stem, path, compared);
  EXPECT_GT(compared, 100);
}

TEST(ChatTemplateGoldenTest, LocalTemplatesMatchJinja2) {
  int compared = 0;
  const auto templates = files_in(data_dir() / "templates", ".jinja");
  ASSERT_FALSE(templates.empty());
  for (const auto& [stem, path] : templates) check_template(stem, path, compared);
  EXPECT_GT(compared, 0);
}

TEST(ChatTemplateGoldenTest, ChatmlFallbackIsTheTestedTemplate) {
  EXPECT_EQ(ChatTemplate::chatml_source(),
            read_file(data_dir() / "templates" / "chatml-fallback.jinja"));
}

}  // namespace
}  // namespace inferd::chat

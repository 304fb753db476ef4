// inferd models list|show|load|unload: manage the models of a running server over HTTP
// (--server, default $INFERD_SERVER or http://127.0.0.1:8080); inferd models scan DIR: list the
// model files of a directory (what the server's models_dir would serve) without a server.
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "http_client.h"
#include "server/registry/model_directory.h"

namespace inferd::cli {
namespace {

using nlohmann::json;

struct ModelsOptions {
  std::string server;
  std::string model;
  std::string dir;
  bool json = false;
};

std::string mib(const json& bytes) {
  if (!bytes.is_number()) return "-";
  return fmt::format("{:.1f} MiB", bytes.get<double>() / (1 << 20));
}

std::string when(const json& unix_s) {
  if (!unix_s.is_number_integer()) return "never";
  const std::time_t t = unix_s.get<int64_t>();
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return out;
}

// The reply's JSON, or prints the server's error and returns null.
json checked(const Result<HttpReply>& reply) {
  if (!reply.ok()) {
    std::fprintf(stderr, "inferd models: %s\n", reply.status().message().c_str());
    return nullptr;
  }
  json j = json::parse(reply->body, nullptr, false);
  if (reply->status != 200) {
    const std::string message = j.is_object() && j.contains("error")
                                    ? j["error"].value("message", reply->body)
                                    : reply->body;
    std::fprintf(stderr, "inferd models: HTTP %d: %s\n", reply->status, message.c_str());
    return nullptr;
  }
  if (j.is_discarded()) {
    std::fprintf(stderr, "inferd models: the server's answer is not JSON\n");
    return nullptr;
  }
  return j;
}

int list(const HttpClient& client, bool as_json) {
  const json j = checked(client.call("GET", "/v1/models"));
  if (j.is_null()) return 1;
  if (as_json) return std::printf("%s\n", j.dump(2).c_str()), 0;
  std::printf("%-28s %-10s %12s %8s  %-19s  %s\n", "ID", "STATE", "MEMORY", "RUNNING", "LAST USED",
              "ALIASES");
  for (const json& m : j.value("data", json::array())) {
    std::string aliases;
    for (const json& a : m.value("aliases", json::array()))
      aliases += (aliases.empty() ? "" : ",") + a.get<std::string>();
    std::printf("%-28s %-10s %12s %8d  %-19s  %s\n", m.value("id", "").c_str(),
                m.value("state", "").c_str(), mib(m.value("memory_bytes", json())).c_str(),
                m.value("running", 0), when(m.value("last_used", json())).c_str(), aliases.c_str());
  }
  return 0;
}

int show(const HttpClient& client, const std::string& id) {
  const json j = checked(client.call("GET", "/v1/models/" + id));
  if (j.is_null()) return 1;
  std::printf("%s\n", j.dump(2).c_str());
  return 0;
}

int load(const HttpClient& client, const std::string& id) {
  size_t scanned = 0;
  bool failed = false;
  auto reply = client.call("POST", "/v1/models/" + id + "/load", R"({"stream":true})",
                           [&](std::string_view body) {
                             size_t end;
                             while ((end = body.find("\n\n", scanned)) != std::string_view::npos) {
                               const std::string_view event = body.substr(scanned, end - scanned);
                               scanned = end + 2;
                               if (event.rfind("data: ", 0) != 0 || event == "data: [DONE]")
                                 continue;
                               const json e = json::parse(event.substr(6), nullptr, false);
                               if (!e.is_object()) continue;
                               if (e.contains("error")) {
                                 failed = true;
                                 std::fprintf(stderr, "inferd models: %s\n",
                                              e["error"].value("message", "load failed").c_str());
                                 continue;
                               }
                               const std::string stage = e.value("stage", "");
                               if (stage == "evicting")
                                 std::printf("  unloading %s (%s) to make room\n",
                                             e.value("model", "").c_str(), mib(e["bytes"]).c_str());
                               else if (stage == "estimated")
                                 std::printf("  needs about %s\n", mib(e["bytes"]).c_str());
                               else if (stage == "done")
                                 std::printf("%s: %s\n", e.value("model", id).c_str(),
                                             e["data"].value("state", "").c_str());
                               else
                                 std::printf("  %s\n", stage.c_str());
                               std::fflush(stdout);
                             }
                           });
  if (!reply.ok() || reply->status != 200) {
    (void)checked(reply);
    return 1;
  }
  return failed ? 1 : 0;
}

int unload(const HttpClient& client, const std::string& id) {
  const json j = checked(client.call("POST", "/v1/models/" + id + "/unload"));
  if (j.is_null()) return 1;
  std::printf("%s: %s\n", j.value("id", id).c_str(), j.value("state", "").c_str());
  return 0;
}

int scan(const std::string& dir, bool as_json) {
  auto found = server::scan_models_dir(dir);
  if (!found.ok()) {
    std::fprintf(stderr, "inferd models scan: %s\n", found.status().message().c_str());
    return 1;
  }
  json out = json::array();
  for (const server::FoundModel& m : *found) {
    if (as_json) {
      out.push_back({{"path", m.path},
                     {"format", m.format},
                     {"size_bytes", m.size_bytes},
                     {"architecture", m.architecture},
                     {"error", m.error.empty() ? json(nullptr) : json(m.error)}});
    } else {
      std::printf("%-60s %-11s %12s  %s\n", m.path.c_str(), m.format.c_str(),
                  mib(json(m.size_bytes)).c_str(),
                  m.error.empty() ? m.architecture.c_str() : ("unreadable: " + m.error).c_str());
    }
  }
  if (as_json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace

Command add_models_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("models", "List, show, load and unload the models of a running server");
  cmd->require_subcommand(1);
  auto o = std::make_shared<ModelsOptions>();
  const char* env = std::getenv("INFERD_SERVER");
  o->server = env ? env : "http://127.0.0.1:8080";
  cmd->add_option("--server", o->server, "The server (or $INFERD_SERVER)")->capture_default_str();
  auto* list_cmd = cmd->add_subcommand("list", "Every model with its state, memory and last use");
  list_cmd->add_flag("--json", o->json, "Print the server's JSON");
  auto* show_cmd = cmd->add_subcommand("show", "One model, as JSON");
  auto* load_cmd = cmd->add_subcommand(
      "load", "Load a model (making room under the memory budget), showing progress");
  auto* unload_cmd =
      cmd->add_subcommand("unload", "Unload a model (once its running requests finish)");
  for (auto* c : {show_cmd, load_cmd, unload_cmd})
    c->add_option("model", o->model, "Model id or alias")->required();
  auto* scan_cmd =
      cmd->add_subcommand("scan", "List the model files of a directory with size and architecture");
  scan_cmd->add_option("dir", o->dir, "Directory")->required();
  scan_cmd->add_flag("--json", o->json, "Print JSON");
  return {cmd, [o, list_cmd, show_cmd, load_cmd, scan_cmd] {
            if (scan_cmd->parsed()) return scan(o->dir, o->json);
            auto client = HttpClient::create(o->server);
            if (!client.ok()) {
              std::fprintf(stderr, "inferd models: --server: %s\n",
                           client.status().message().c_str());
              return 2;
            }
            if (list_cmd->parsed()) return list(*client, o->json);
            if (show_cmd->parsed()) return show(*client, o->model);
            if (load_cmd->parsed()) return load(*client, o->model);
            return unload(*client, o->model);
          }};
}

}  // namespace inferd::cli

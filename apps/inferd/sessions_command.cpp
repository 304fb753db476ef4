// inferd sessions: the sessions of a running server, over its HTTP API (list, show, export,
// import, rm). Results go to stdout (JSON for show and export, a table or JSON for list); errors
// (the server's message) to stderr with exit status 1, 2 when the server cannot be reached.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "commands.h"

namespace inferd::cli {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

struct SessionsOptions {
  std::string server = "http://127.0.0.1:8080";
  std::string api_key;  // sent as a bearer token when set (or from INFERD_API_KEY)
  std::string prefix = "/v1";
  // list
  std::string user;
  int limit = 20;
  int offset = 0;
  bool json = false;
  // show, export, rm
  std::vector<std::string> ids;
  bool with_messages = false;
  std::string output;  // export: file instead of stdout
  // import
  std::string input;
  std::string new_id;
};

struct Reply {
  int status = 0;  // 0: no answer
  std::string error;
  json body;
};

// "http://host:port" -> host, port.
bool split_url(const std::string& url, std::string* host, std::string* port) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return false;
  std::string rest = url.substr(kScheme.size());
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const auto colon = rest.rfind(':');
  *host = colon == std::string::npos ? rest : rest.substr(0, colon);
  *port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  return !host->empty() && !port->empty();
}

Reply call(const SessionsOptions& o, http::verb method, const std::string& target,
           const std::string& body = "") {
  Reply r;
  std::string host, port;
  if (!split_url(o.server, &host, &port)) {
    r.error = "--server must be http://HOST:PORT, not '" + o.server + "'";
    return r;
  }
  try {
    net::io_context ioc;
    boost::beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(net::ip::tcp::resolver(ioc).resolve(host, port));
    http::request<http::string_body> req{method, o.prefix + target, 11};
    req.set(http::field::host, host);
    req.set(http::field::content_type, "application/json");
    if (!o.api_key.empty()) req.set(http::field::authorization, "Bearer " + o.api_key);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1u << 30);
    http::read(stream, buffer, parser);
    r.status = static_cast<int>(parser.get().result_int());
    r.body = json::parse(parser.get().body(), nullptr, false);
  } catch (const std::exception& e) {
    r.error = fmt::format("cannot reach {}: {}", o.server, e.what());
  }
  return r;
}

// Prints the failure and returns the exit status, or 0 when `r` is a success.
int failure(const Reply& r) {
  if (r.status == 0) {
    std::fprintf(stderr, "inferd sessions: %s\n", r.error.c_str());
    return 2;
  }
  if (r.status >= 200 && r.status < 300) return 0;
  std::string message =
      r.body.is_object() && r.body.contains("error") ? r.body["error"].value("message", "") : "";
  std::fprintf(stderr, "inferd sessions: HTTP %d: %s\n", r.status,
               message.empty() ? r.body.dump().c_str() : message.c_str());
  return 1;
}

int list(const SessionsOptions& o) {
  std::string target = fmt::format("/sessions?limit={}&offset={}", o.limit, o.offset);
  if (!o.user.empty()) target += "&user_id=" + o.user;
  const Reply r = call(o, http::verb::get, target);
  if (int rc = failure(r)) return rc;
  if (o.json) {
    std::cout << r.body.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<34} {:<16} {:>8} {:<26} {:<26}\n", "SESSION", "USER", "MESSAGES",
                           "CREATED", "EXPIRES");
  for (const json& s : r.body["data"])
    std::cout << fmt::format(
        "{:<34} {:<16} {:>8} {:<26} {:<26}\n", s.value("session_id", ""),
        s["user_id"].is_string() ? s["user_id"].get<std::string>() : "-",
        s.value("message_count", 0),
        s["created_at"].is_string() ? s["created_at"].get<std::string>().substr(0, 19) : "",
        s["expires_at"].is_string() ? s["expires_at"].get<std::string>().substr(0, 19) : "never");
  std::cout << fmt::format("{} of {} sessions\n", r.body["data"].size(), r.body.value("total", 0));
  return 0;
}

int show(const SessionsOptions& o) {
  const std::string& id = o.ids.front();
  const Reply r = call(o, http::verb::get, "/sessions/" + id);
  if (int rc = failure(r)) return rc;
  json out = r.body;
  if (o.with_messages) {
    json messages = json::array();
    for (int offset = 0;; offset += 1000) {
      const Reply m = call(o, http::verb::get,
                           fmt::format("/sessions/{}/messages?limit=1000&offset={}", id, offset));
      if (int rc = failure(m)) return rc;
      for (const json& msg : m.body["data"]) messages.push_back(msg);
      if (!m.body.value("has_more", false)) break;
    }
    out["messages"] = std::move(messages);
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}

int export_session(const SessionsOptions& o) {
  const Reply r = call(o, http::verb::get, "/sessions/" + o.ids.front() + "/export");
  if (int rc = failure(r)) return rc;
  if (o.output.empty()) {
    std::cout << r.body.dump(2) << "\n";
    return 0;
  }
  std::ofstream f(o.output);
  f << r.body.dump(2) << "\n";
  if (!f) {
    std::fprintf(stderr, "inferd sessions: cannot write %s\n", o.output.c_str());
    return 1;
  }
  return 0;
}

int import_session(const SessionsOptions& o) {
  std::stringstream text;
  if (o.input == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream f(o.input);
    if (!f) {
      std::fprintf(stderr, "inferd sessions: cannot read %s\n", o.input.c_str());
      return 1;
    }
    text << f.rdbuf();
  }
  const Reply r =
      call(o, http::verb::post,
           "/sessions/import" + (o.new_id.empty() ? "" : "?session_id=" + o.new_id), text.str());
  if (int rc = failure(r)) return rc;
  std::cout << r.body.value("session_id", "") << "\n";
  return 0;
}

int remove(const SessionsOptions& o) {
  int status = 0;
  for (const std::string& id : o.ids) {
    const Reply r = call(o, http::verb::delete_, "/sessions/" + id);
    if (int rc = failure(r))
      status = std::max(status, rc);
    else
      std::cout << "deleted " << id << "\n";
  }
  return status;
}

}  // namespace

Command add_sessions_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sessions", "List, show, export, import or delete the sessions of a running server");
  cmd->require_subcommand(1);
  auto o = std::make_shared<SessionsOptions>();
  if (const char* key = std::getenv("INFERD_API_KEY")) o->api_key = key;
  cmd->add_option("--server", o->server, "The server")->capture_default_str();
  cmd->add_option("--api-key", o->api_key,
                  "API key sent as a bearer token (default: $INFERD_API_KEY)");
  cmd->add_option("--prefix", o->prefix, "Path prefix of the API")->capture_default_str();
  auto action = std::make_shared<std::function<int()>>();

  auto* ls = cmd->add_subcommand("list", "The sessions of the caller's service, newest first");
  ls->add_option("--user", o->user, "Only this user's sessions");
  ls->add_option("--limit", o->limit, "Sessions to show")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  ls->add_option("--offset", o->offset, "Sessions to skip")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  ls->add_flag("--json", o->json, "Print the server's JSON");
  ls->callback([o, action] { *action = [o] { return list(*o); }; });

  auto* sh = cmd->add_subcommand(
      "show", "One session's record (and with --messages, its messages) as JSON");
  sh->add_option("id", o->ids, "Session id")->required()->expected(1);
  sh->add_flag("--messages", o->with_messages, "Include the messages");
  sh->callback([o, action] { *action = [o] { return show(*o); }; });

  auto* ex = cmd->add_subcommand("export", "A session as a JSON export document (for import)");
  ex->add_option("id", o->ids, "Session id")->required()->expected(1);
  ex->add_option("-o,--output", o->output, "Write to this file instead of stdout");
  ex->callback([o, action] { *action = [o] { return export_session(*o); }; });

  auto* im = cmd->add_subcommand("import", "Store an export document as a session; prints its id");
  im->add_option("file", o->input, "Export document ('-' = stdin)")->required();
  im->add_option("--id", o->new_id, "Store it under this id instead of the exported one");
  im->callback([o, action] { *action = [o] { return import_session(*o); }; });

  auto* rm = cmd->add_subcommand("rm", "Delete sessions");
  rm->add_option("ids", o->ids, "Session ids")->required();
  rm->callback([o, action] { *action = [o] { return remove(*o); }; });

  return {cmd, [action] { return *action ? (*action)() : 1; }};
}

}  // namespace inferd::cli

#include "server/api/kv_endpoints.h"

#include <chrono>
#include <filesystem>
#include <future>

#include <spdlog/spdlog.h>

#include "server/api/json_body.h"
#include "server/api/openai/chat_prompt.h"
#include "server/api/openai/completion_request.h"
#include "server/api/openai/generation_job.h"

namespace inferd::server {
namespace {

namespace fs = std::filesystem;

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

fs::path model_dir(const ApiContext& api, const ServedModel& m) { return fs::path(api.kv_dir) / m.id(); }

void respond_json(Exchange& ex, const Json& j) { (void)ex.respond(200, kJsonContentType, dump_json(j)); }

// The model and the prefix file a request names, or the error it gets.
struct Target {
  ModelLease model;
  std::string name;
  fs::path path;
};

std::optional<Target> resolve(const ApiContext& api, std::string_view model_name, std::string name, Exchange& ex) {
  if (api.kv_dir.empty()) {
    (void)respond_error(ex, invalid_request_error("KV persistence is off; start the server with --kv-dir", std::nullopt,
                                            "kv_persistence_disabled"));
    return std::nullopt;
  }
  if (!valid_name(name)) {
    (void)respond_error(ex, invalid_request_error("'name' must be 1-128 characters of A-Z a-z 0-9 . _ - (not starting with '.')",
                                            "name"));
    return std::nullopt;
  }
  ApiError error;
  ModelLease m = api.find_loaded_model(model_name, &error);
  if (!m) {
    (void)respond_error(ex, error);
    return std::nullopt;
  }
  Target t{m, std::move(name), {}};
  t.path = model_dir(api, *m) / (t.name + ".kv");
  return t;
}

// The tokens to save: a chat conversation or one completion prompt.
Result<std::vector<TokenId>> tokens_to_save(const ServedModel& m, const Json& body) {
  if (body.contains("messages")) {
    INFERD_ASSIGN_OR_RETURN(openai::ChatRequest chat, openai::parse_chat_request(body));
    const bool with_tools = !chat.tools.is_null() && chat.tool_choice != openai::ToolChoice::kNone;
    INFERD_ASSIGN_OR_RETURN(openai::ChatPrompt p, openai::chat_prompt(m, chat, with_tools));
    return p.tokens;
  }
  INFERD_ASSIGN_OR_RETURN(openai::CompletionRequest req, openai::parse_completion_request(body));
  if (req.prompts.size() != 1) return invalid_argument("give one prompt to save").with_field("prompt");
  return openai::prompt_tokens(m.model(), req.prompts[0], "prompt");
}

// Evaluates the prompt (no generation), then saves its blocks and answers.
class SaveSink : public GenerationSink {
 public:
  SaveSink(std::shared_ptr<Exchange> ex, const ServedModel& m, Target t, std::vector<TokenId> tokens)
      : ex_(std::move(ex)), model_(m), target_(std::move(t)), tokens_(std::move(tokens)) {}
  void on_token(TokenId, std::string_view, const TokenLogprobs*) override {}
  void on_finish(const GenerationResult& r) override {
    if (r.reason == FinishReason::kError) return (void)respond_error(*ex_, api_error_from_status(r.error));
    if (r.reason == FinishReason::kCancelled) return (void)respond_error(*ex_, overloaded_error("cancelled", 1));
    auto ex = ex_;
    const std::string name = target_.name, model = model_.id(), path = target_.path.string();
    const auto prompt_tokens = static_cast<int64_t>(tokens_.size());
    model_.engine().save_prefix(tokens_, path, [ex, name, model, path, prompt_tokens, lease = target_.model](Result<int64_t> saved) {
      if (!saved.ok()) return (void)respond_error(*ex, api_error_from_status(saved.status()));
      std::error_code ec;
      const auto bytes = *saved > 0 ? fs::file_size(path, ec) : 0;
      respond_json(*ex, {{"object", "kv.prefix"}, {"name", name}, {"model", model}, {"prompt_tokens", prompt_tokens},
                         {"saved_tokens", *saved}, {"bytes", ec ? 0 : bytes}});
    });
  }

 private:
  std::shared_ptr<Exchange> ex_;
  const ServedModel& model_;
  Target target_;
  std::vector<TokenId> tokens_;
};

// The target named by a body's "model" and "name" fields (`name` set), or nothing once a 400 or
// 404 has been answered.
std::optional<Target> resolve_body_target(const ApiContext& api, const Json& body, std::string* name, Exchange& ex) {
  const FieldReader r(body, "");
  std::string model_name;
  for (const Status& st : {r.string("model", &model_name), r.required_string("name", name)})
    if (!st.ok()) return (void)respond_error(ex, api_error_from_status(st)), std::nullopt;
  return resolve(api, model_name, *name, ex);
}

}  // namespace

void handle_kv_save(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*ex, api_error_from_status(body.status()));
  std::string name;
  auto target = resolve_body_target(api, *body, &name, *ex);
  if (!target) return;
  auto tokens = tokens_to_save(*target->model, *body);
  if (!tokens.ok()) return (void)respond_error(*ex, api_error_from_status(tokens.status()));
  const char* what = body->contains("messages") ? "messages" : "prompt";
  if (auto e = openai::check_context(*target->model, static_cast<int64_t>(tokens->size()), 0, what))
    return (void)respond_error(*ex, *e);
  std::error_code ec;
  fs::create_directories(target->path.parent_path(), ec);
  if (ec) {
    spdlog::error("kv save: cannot create {}: {}", target->path.parent_path().string(), ec.message());
    return (void)respond_error(*ex, server_error("cannot create the KV directory"));
  }
  GenerationRequest g;
  g.prompt = *tokens;
  g.max_tokens = 0;
  const ServedModel& m = *target->model;
  auto sink = std::make_shared<SaveSink>(ex, m, std::move(*target), std::move(tokens).value());
  auto id = m.engine().submit(std::move(g), std::move(sink));
  if (!id.ok()) return (void)respond_error(*ex, openai::submit_error(id.status()));
}

void handle_kv_restore(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*ex, api_error_from_status(body.status()));
  std::string name;
  auto target = resolve_body_target(api, *body, &name, *ex);
  if (!target) return;
  const std::string model = target->model->id();
  target->model->engine().restore_prefix(target->path.string(), [ex, name, model, lease = target->model](Result<int64_t> n) {
    if (!n.ok()) {
      ApiError e = api_error_from_status(n.status());
      if (n.status().code() == StatusCode::kNotFound) e.message = "no saved prefix named '" + name + "'";
      e.param = "name";
      return (void)respond_error(*ex, e);
    }
    respond_json(*ex, {{"object", "kv.prefix"}, {"name", name}, {"model", model}, {"restored_tokens", *n}});
  });
}

void handle_kv_list(const ApiContext& api, const Request&, std::shared_ptr<Exchange> ex) {
  Json data = Json::array();
  for (const auto& m : api.models()) {
    if (api.kv_dir.empty()) break;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(model_dir(api, *m), ec)) {
      if (!entry.is_regular_file(ec) || entry.path().extension() != ".kv") continue;
      const auto modified = std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::file_clock::to_sys(entry.last_write_time(ec)).time_since_epoch());
      data.push_back({{"object", "kv.prefix"}, {"name", entry.path().stem().string()}, {"model", m->id()},
                      {"bytes", entry.file_size(ec)}, {"modified_at", modified.count()}});
    }
  }
  respond_json(*ex, {{"object", "list"}, {"data", std::move(data)}});
}

void handle_kv_erase(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  auto target = resolve(api, request.query.get_or("model", ""), std::string(request.param("name").value_or("")), *ex);
  if (!target) return;
  std::error_code ec;
  if (!fs::remove(target->path, ec))
    return (void)respond_error(*ex, not_found_error("no saved prefix named '" + target->name + "'", "kv_prefix_not_found"));
  respond_json(*ex, {{"object", "kv.prefix"}, {"name", target->name}, {"model", target->model->id()}, {"deleted", true}});
}

int restore_saved_prefixes(const ApiContext& api, const ServedModel& m) {
  if (api.kv_dir.empty()) return 0;
  int restored = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(model_dir(api, m), ec)) {
    if (entry.path().extension() != ".kv") continue;
    std::promise<Result<int64_t>> done;
    auto result = done.get_future();
    m.engine().restore_prefix(entry.path().string(), [&done](Result<int64_t> n) { done.set_value(std::move(n)); });
    const auto n = result.get();
    if (n.ok()) {
      ++restored;
    } else {
      spdlog::warn("model {}: saved prefix {} not restored: {}", m.id(), entry.path().string(), n.status().to_string());
    }
  }
  return restored;
}

}  // namespace inferd::server

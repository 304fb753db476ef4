#include "server/api/openai/model_endpoints.h"

#include <limits>

#include "server/api/openai/openai_json.h"
#include "server/registry/model_errors.h"

namespace inferd::server::openai {

Json model_status_json(const ModelStatus& s) {
  Json j = {{"id", s.id}, {"object", "model"}, {"created", s.model ? s.model->created_unix() : 0}, {"owned_by", "inferd"}};
  j["aliases"] = s.aliases;
  j["kind"] = model_kind_name(s.kind);
  j["state"] = model_load_state_name(s.state);
  j["memory_bytes"] = s.memory_bytes;
  j["last_used"] = s.last_used_unix_ms > 0 ? Json(s.last_used_unix_ms / 1000) : Json(nullptr);
  j["pinned"] = s.pinned;
  j["running"] = s.running;
  if (!s.error.empty()) j["error"] = s.error;
  if (!s.model) return j;
  const ServedModel& m = *s.model;
  const ModelInfo& info = m.model().info();
  j["meta"] = {{"architecture", info.architecture}, {"weight_type", info.weight_type},
               {"n_params", info.n_params}, {"n_vocab", info.n_vocab}, {"n_ctx_train", info.n_ctx_train},
               {"n_ctx", m.engine().ctx_per_slot()}, {"n_embd", info.n_embd}, {"size_bytes", info.weight_bytes}};
  return j;
}

namespace {

void respond_json(Exchange& ex, const Json& j) { (void)ex.respond(200, kJsonContentType, dump_json(j)); }

}  // namespace

void handle_list_models(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  Json data = Json::array();
  if (ModelRegistry* registry = api.registry())
    for (const ModelStatus& s : registry->status())
      if (api.router()->allowed(request.caller.service, s.id)) data.push_back(model_status_json(s));
  respond_json(*ex, {{"object", "list"}, {"data", std::move(data)}});
}

void handle_get_model(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  const std::string name(request.param("model").value_or(""));
  ModelRegistry* registry = api.registry();
  if (!registry) return (void)respond_error(*ex, overloaded_error("the model is loading; retry shortly", 5));
  auto c = api.router()->candidates(request.caller.service, name);
  if (auto* e = std::get_if<ApiError>(&c)) return (void)respond_error(*ex, *e);
  const auto status = registry->status(std::get<std::vector<std::string>>(c).front());
  if (!status) return (void)respond_error(*ex, model_not_found_error(name));
  respond_json(*ex, model_status_json(*status));
}

void handle_tokenize(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*ex, api_error_from_status(body.status()));
  const FieldReader r(*body, "");
  std::string model_name, content;
  bool add_special = true, with_pieces = false, parse_special = false;
  for (const Status& st : {r.string("model", &model_name), r.required_string("content", &content),
                           r.boolean("add_special", &add_special), r.boolean("with_pieces", &with_pieces),
                           r.boolean("parse_special", &parse_special)})
    if (!st.ok()) return (void)respond_error(*ex, api_error_from_status(st));
  api.with_model(request, model_name, ex, [ex, content, add_special, with_pieces, parse_special](RoutedModel routed) {
    const ServedModel& m = *routed.model;
    const auto tokens = m.model().tokenize(content, add_special, parse_special);
    Json out = Json::array();
    for (TokenId t : tokens) {
      if (with_pieces) out.push_back({{"id", t}, {"piece", m.model().token_to_piece(t, true)}});
      else out.push_back(t);
    }
    respond_json(*ex, {{"tokens", std::move(out)}});
  });
}

void handle_detokenize(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*ex, api_error_from_status(body.status()));
  const FieldReader r(*body, "");
  std::string model_name;
  if (Status st = r.string("model", &model_name); !st.ok()) return (void)respond_error(*ex, api_error_from_status(st));
  const Json* tokens = r.find("tokens");
  if (!tokens || !tokens->is_array())
    return (void)respond_error(*ex, invalid_request_error("'tokens' must be an array of token ids", "tokens"));
  api.with_model(request, model_name, ex, [ex, tokens = *tokens](RoutedModel routed) {
    const ServedModel& m = *routed.model;
    std::vector<TokenId> ids;
    for (const auto& t : tokens) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= m.model().vocab_size())
        return (void)respond_error(*ex, invalid_request_error("'tokens' holds an id outside the vocabulary", "tokens"));
      ids.push_back(static_cast<TokenId>(t.get<int64_t>()));
    }
    respond_json(*ex, {{"content", m.model().detokenize(ids, /*skip_special=*/false)}});
  });
}

void handle_health(const ApiContext& api, const Request&, std::shared_ptr<Exchange> ex) {
  if (!api.ready()) {
    ApiError e = overloaded_error("loading model", 5);
    return (void)respond_error(*ex, e);
  }
  Json j = {{"status", "ok"}};
  Json models = Json::array();
  for (const auto& m : api.models()) {
    const EngineStats s = m->engine().stats();
    models.push_back({{"id", m->id()}, {"running", s.running}, {"waiting", s.waiting}});
  }
  j["models"] = std::move(models);
  respond_json(*ex, j);
}

}  // namespace inferd::server::openai

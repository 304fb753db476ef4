#include "server/api/sessions/session_endpoints.h"

#include <charconv>

#include "server/api/json_body.h"
#include "server/sessions/chat_session_turn.h"
#include "server/sessions/session_usage.h"

namespace inferd::server {
namespace {

using sessions::SessionRecord;
using sessions::SessionService;

// The session service, or nullptr after answering 400.
SessionService* service_or_answer(const ApiContext& api, Exchange& ex) {
  if (api.sessions) return api.sessions.get();
  (void)respond_error(ex, invalid_request_error("sessions are not enabled on this server",
                                                std::nullopt, "sessions_disabled"));
  return nullptr;
}

void respond_json(Exchange& ex, int status, const Json& j, HeaderList headers = {}) {
  (void)ex.respond(status, kJsonContentType, dump_json(j), std::move(headers));
}

Json session_json(const SessionRecord& r) {
  Json j = {{"object", "session"}};
  const Json record = sessions::record_json(r);
  for (const auto& [k, v] : record.items()) j[k] = v;
  return j;
}

HeaderList etag(const SessionRecord& r) {
  return {{"ETag", "\"" + std::to_string(r.version) + "\""}};
}

std::string session_id(const Request& r) {
  return std::string(r.param("session_id").value_or(""));
}

// A query integer in [lo, hi] (absent: `fallback`); false after answering 400.
bool query_int(const Request& r, Exchange& ex, const char* name, int64_t lo, int64_t hi,
               int64_t fallback, int64_t* out) {
  const auto v = r.query.get(name);
  *out = fallback;
  if (!v) return true;
  int64_t x = 0;
  const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc() || p != v->data() + v->size() || x < lo || x > hi) {
    (void)respond_error(ex,
                        invalid_request_error("'" + std::string(name) + "' must be an integer " +
                                                  std::to_string(lo) + "-" + std::to_string(hi),
                                              std::string(name)));
    return false;
  }
  *out = x;
  return true;
}

// The version If-Match names (nothing when absent); false after answering 400.
bool if_match(const Request& r, Exchange& ex, std::optional<int64_t>* out) {
  const auto h = r.header("If-Match");
  if (!h) return true;
  *out = sessions::parse_if_match(*h);
  if (*out) return true;
  (void)respond_error(
      ex, invalid_request_error("If-Match must be a session version, e.g. \"3\"", "If-Match"));
  return false;
}

// The JSON object body (an empty body is {}); nothing after answering 400.
std::optional<Json> body_object(const Request& r, Exchange& ex) {
  if (r.body.empty()) return Json::object();
  auto j = parse_json_object(r.body);
  if (j.ok()) return std::move(j).value();
  (void)respond_error(ex, api_error_from_status(j.status()));
  return std::nullopt;
}

// The create fields shared by POST /sessions and branch.
Status read_create_params(const Json& body, sessions::CreateParams* p) {
  const FieldReader f(body, "");
  INFERD_RETURN_IF_ERROR(f.string("session_id", &p->session_id));
  if (!p->session_id.empty() && !sessions::valid_session_id(p->session_id))
    return invalid_argument(
               "'session_id' must be 1-128 of A-Z a-z 0-9 . _ - (not starting with '.', not usage, "
               "templates or import)")
        .with_field("session_id");
  if (f.find("ttl_seconds")) {
    int64_t ttl = 0;
    INFERD_RETURN_IF_ERROR(f.integer("ttl_seconds", 1, INT64_MAX / 1000, &ttl));
    p->ttl_s = ttl;
  }
  INFERD_RETURN_IF_ERROR(f.string("user_id", &p->user_id));
  if (const Json* m = f.find("metadata")) {
    if (!m->is_object()) return f.error("metadata", "must be an object");
    p->metadata = *m;
  }
  if (f.find("system_prompt")) {
    std::string s;
    INFERD_RETURN_IF_ERROR(f.string("system_prompt", &s));
    p->system_prompt = std::move(s);
  }
  return f.string("template", &p->template_name);
}

template <typename T>
bool failed(sessions::SessionResult<T>& r, Exchange& ex) {
  if (r.ok()) return false;
  (void)respond_error(ex, r.error());
  return true;
}

// Answers 200 with the JSON `call` gets from the session service, or with its error.
template <typename Call>
void answer_json(const ApiContext& api, Exchange& ex, Call call) {
  SessionService* s = service_or_answer(api, ex);
  if (!s) return;
  auto r = call(*s);
  if (failed(r, ex)) return;
  respond_json(ex, 200, *r);
}

}  // namespace

void handle_create_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  const auto body = body_object(request, *ex);
  if (!body) return;
  sessions::CreateParams p;
  if (Status st = read_create_params(*body, &p); !st.ok())
    return (void)respond_error(*ex, api_error_from_status(st));
  auto r = s->create(request.caller, p);
  if (failed(r, *ex)) return;
  respond_json(*ex, 201, session_json(*r), etag(*r));
}

void handle_list_sessions(const ApiContext& api, const Request& request,
                          std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  sessions::ListQuery q;
  if (!query_int(request, *ex, "limit", 1, 100, 20, &q.limit) ||
      !query_int(request, *ex, "offset", 0, INT64_MAX / 2, 0, &q.offset))
    return;
  q.user_id = std::string(request.query.get_or("user_id", ""));
  auto page = s->list(request.caller, q);
  if (failed(page, *ex)) return;
  Json data = Json::array();
  for (const auto& r : page->sessions) data.push_back(session_json(r));
  respond_json(
      *ex, 200,
      {{"object", "list"},
       {"data", std::move(data)},
       {"total", page->total},
       {"has_more", q.offset + static_cast<int64_t>(page->sessions.size()) < page->total}});
}

void handle_get_session(const ApiContext& api, const Request& request,
                        std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  auto r = s->get(request.caller, session_id(request));
  if (failed(r, *ex)) return;
  respond_json(*ex, 200, session_json(*r), etag(*r));
}

void handle_update_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  std::optional<int64_t> version;
  if (!if_match(request, *ex, &version)) return;
  const auto body = body_object(request, *ex);
  if (!body) return;
  const FieldReader f(*body, "");
  sessions::UpdateParams p;
  Status st;
  if (const Json* m = f.find("metadata")) {
    if (!m->is_object())
      return (void)respond_error(*ex,
                                 invalid_request_error("'metadata' must be an object", "metadata"));
    p.metadata = *m;
  }
  if (f.find("ttl_seconds")) {
    int64_t ttl = 0;
    st = f.integer("ttl_seconds", 1, INT64_MAX / 1000, &ttl);
    p.ttl_s = ttl;
  }
  for (auto [key, out] :
       {std::pair{"user_id", &p.user_id}, std::pair{"system_prompt", &p.system_prompt}}) {
    if (!st.ok() || !f.find(key)) continue;
    std::string v;
    st = f.string(key, &v);
    *out = std::move(v);
  }
  if (!st.ok()) return (void)respond_error(*ex, api_error_from_status(st));
  auto r = s->update(request.caller, session_id(request), p, version);
  if (failed(r, *ex)) return;
  respond_json(*ex, 200, session_json(*r), etag(*r));
}

void handle_delete_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  std::optional<int64_t> version;
  if (!if_match(request, *ex, &version)) return;
  auto r = s->remove(request.caller, session_id(request), version);
  if (failed(r, *ex)) return;
  respond_json(*ex, 200, {{"id", r->session_id}, {"object", "session.deleted"}, {"deleted", true}});
}

void handle_session_messages(const ApiContext& api, const Request& request,
                             std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  int64_t limit = 0, offset = 0;
  if (!query_int(request, *ex, "limit", 1, 1000, 100, &limit) ||
      !query_int(request, *ex, "offset", 0, INT64_MAX / 2, 0, &offset))
    return;
  auto page = s->messages(request.caller, session_id(request), offset, limit);
  if (failed(page, *ex)) return;
  Json data = Json::array();
  for (auto& m : page->messages) data.push_back(std::move(m));
  respond_json(*ex, 200,
               {{"object", "list"},
                {"data", std::move(data)},
                {"total", page->total},
                {"offset", offset},
                {"has_more", offset + static_cast<int64_t>(data.size()) < page->total}});
}

void handle_branch_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  const auto body = body_object(request, *ex);
  if (!body) return;
  sessions::CreateParams p;
  Status st = read_create_params(*body, &p);
  int64_t count = -1;
  if (st.ok()) st = FieldReader(*body, "").integer("message_count", 0, INT64_MAX / 2, &count);
  if (st.ok() && count < 0)
    st = invalid_argument("'message_count' is required").with_field("message_count");
  if (st.ok() && !p.template_name.empty())
    st = invalid_argument("a branch keeps its parent's template").with_field("template");
  if (!st.ok()) return (void)respond_error(*ex, api_error_from_status(st));
  auto r = s->branch(request.caller, session_id(request), count, p);
  if (failed(r, *ex)) return;
  respond_json(*ex, 201, session_json(*r), etag(*r));
}

void handle_session_tree(const ApiContext& api, const Request& request,
                         std::shared_ptr<Exchange> ex) {
  answer_json(api, *ex, [&](SessionService& s) { return s.tree(request.caller, session_id(request)); });
}

void handle_export_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> ex) {
  answer_json(api, *ex, [&](SessionService& s) { return s.export_session(request.caller, session_id(request)); });
}

void handle_import_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*ex, api_error_from_status(body.status()));
  const std::string new_id(request.query.get_or("session_id", ""));
  if (!new_id.empty() && !sessions::valid_session_id(new_id))
    return (void)respond_error(
        *ex, invalid_request_error("'session_id' is not a valid session id", "session_id"));
  auto r = s->import_session(request.caller, *body, new_id);
  if (failed(r, *ex)) return;
  respond_json(*ex, 201, session_json(*r), etag(*r));
}

void handle_session_stats(const ApiContext& api, const Request& request,
                          std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  auto c = s->load(request.caller, session_id(request));
  if (failed(c, *ex)) return;
  respond_json(*ex, 200, sessions::session_stats(c->record, c->messages, s->options()));
}

void handle_session_usage(const ApiContext& api, const Request& request,
                          std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  sessions::UsageQuery q;
  q.from_day = std::string(request.query.get_or("from", ""));
  q.to_day = std::string(request.query.get_or("to", ""));
  std::string_view groups = request.query.get_or("group_by", "");
  while (!groups.empty()) {
    const size_t comma = groups.find(',');
    q.group_by.emplace_back(groups.substr(0, comma));
    groups = comma == std::string_view::npos ? std::string_view() : groups.substr(comma + 1);
  }
  auto usage = sessions::query_usage(s->store(), request.caller.service, q, s->options());
  if (!usage.ok()) {
    const bool bad_input = usage.status().code() == StatusCode::kInvalidArgument;
    return (void)respond_error(*ex, bad_input ? api_error_from_status(usage.status())
                                              : sessions::store_error(usage.status()));
  }
  respond_json(*ex, 200, *usage);
}

void handle_create_session_template(const ApiContext& api, const Request& request,
                                    std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*ex, api_error_from_status(body.status()));
  auto t = s->put_template(request.caller, *body);
  if (failed(t, *ex)) return;
  respond_json(*ex, 201, *t);
}

void handle_list_session_templates(const ApiContext& api, const Request& request,
                                   std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  auto list = s->list_templates(request.caller);
  if (failed(list, *ex)) return;
  Json data = Json::array();
  for (auto& t : *list) data.push_back(std::move(t));
  respond_json(*ex, 200, {{"object", "list"}, {"data", std::move(data)}});
}

void handle_get_session_template(const ApiContext& api, const Request& request,
                                 std::shared_ptr<Exchange> ex) {
  answer_json(api, *ex, [&](SessionService& s) {
    return s.get_template(request.caller, std::string(request.param("name").value_or("")));
  });
}

void handle_delete_session_template(const ApiContext& api, const Request& request,
                                    std::shared_ptr<Exchange> ex) {
  SessionService* s = service_or_answer(api, *ex);
  if (!s) return;
  auto t = s->remove_template(request.caller, std::string(request.param("name").value_or("")));
  if (failed(t, *ex)) return;
  respond_json(*ex, 200,
               {{"name", (*t)["name"]}, {"object", "session.template.deleted"}, {"deleted", true}});
}

}  // namespace inferd::server

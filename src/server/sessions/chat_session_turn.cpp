#include "server/sessions/chat_session_turn.h"

#include <charconv>

#include <fmt/format.h>

namespace inferd::server::sessions {
namespace {

// The message as a chat template sees it (what the session stores beside it is left out).
Json prompt_message(const Json& stored) {
  Json m = Json::object();
  for (const char* k : {"role", "content", "name", "tool_calls", "tool_call_id"})
    if (const auto it = stored.find(k); it != stored.end()) m[k] = *it;
  return m;
}

}  // namespace

std::string message_text(const Json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (content.is_array())
    for (const Json& part : content)
      if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
          part["text"].is_string())
        text += part["text"].get<std::string>();
  return text;
}

std::optional<int64_t> parse_if_match(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  int64_t out = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || out < 1) return std::nullopt;
  return out;
}

SessionResult<std::shared_ptr<ChatSessionTurn>> ChatSessionTurn::begin(
    const std::shared_ptr<SessionService>& sessions, const Request& request, Json* body) {
  std::string id;
  if (const auto it = body->find("session_id"); it != body->end()) {
    if (!it->is_string() && !it->is_null())
      return invalid_request_error("'session_id' must be a string", "session_id");
    if (it->is_string()) id = it->get<std::string>();
    body->erase("session_id");
  }
  if (const auto h = request.header("X-Session-ID")) {
    if (!id.empty() && id != *h)
      return invalid_request_error(
          "the X-Session-ID header and 'session_id' name different sessions", "session_id");
    id = std::string(*h);
  }
  if (id.empty()) return std::shared_ptr<ChatSessionTurn>();
  if (!sessions)
    return invalid_request_error("sessions are not enabled on this server", "session_id",
                                 "sessions_disabled");

  std::shared_ptr<ChatSessionTurn> turn(new ChatSessionTurn());
  turn->sessions_ = sessions;
  turn->caller_ = request.caller;
  turn->session_id_ = id;
  if (const auto h = request.header("If-Match")) {
    turn->expected_version_ = parse_if_match(*h);
    if (!turn->expected_version_)
      return invalid_request_error("If-Match must be a session version, e.g. \"3\"", "If-Match");
  }
  auto conversation = sessions->load(request.caller, id);
  if (!conversation.ok()) return conversation.error();
  const SessionRecord& r = conversation->record;
  if (turn->expected_version_ && *turn->expected_version_ != r.version)
    return version_conflict("session '" + id + "' is at version " + std::to_string(r.version) +
                            ", not " + std::to_string(*turn->expected_version_) + " (If-Match)");

  // The session's parameters are defaults: the request's own fields win.
  for (const auto& [k, v] : r.parameters.items())
    if (!body->contains(k) || (*body)[k].is_null()) (*body)[k] = v;

  const auto client = body->find("messages");
  if (client == body->end() || !client->is_array()) return turn;  // the parser names the error
  turn->system_prompt_ = r.system_prompt;
  for (const Json& m : conversation->messages) turn->stored_.push_back(prompt_message(m));
  turn->client_.assign(client->begin(), client->end());
  turn->summary_ = {r.summary, r.summary_message_count};
  turn->rewrite(body);
  return turn;
}

void ChatSessionTurn::rewrite(Json* body) {
  Json messages = Json::array();
  std::string system = system_prompt_.value_or("");
  if (!summary_.text.empty())
    system += (system.empty() ? "" : "\n\n") + std::string(kSummaryHeading) + summary_.text;
  if (system_prompt_ || !summary_.text.empty())
    messages.push_back({{"role", "system"}, {"content", system}});
  first_history_ = messages.size();
  for (size_t i = static_cast<size_t>(summary_.message_count); i < stored_.size(); ++i)
    messages.push_back(stored_[i]);
  num_prefix_ = messages.size();
  for (const Json& m : client_) messages.push_back(m);
  (*body)["messages"] = std::move(messages);
}

std::optional<ChatSessionTurn::SummaryTask> ChatSessionTurn::summary_due() const {
  if (dropped_ == 0 || summarised_ || sessions_->options().summary_model.empty()) return std::nullopt;
  // The dropped messages and at least half of those left, up to the start of a turn.
  const size_t covered = static_cast<size_t>(summary_.message_count);
  const size_t uncovered = stored_.size() - covered;
  size_t end = covered + std::max(dropped_, (uncovered + 1) / 2);
  while (end < stored_.size() && stored_[end].value("role", "") != "user") ++end;
  SummaryTask task;
  task.previous = summary_.text;
  task.messages.assign(stored_.begin() + static_cast<std::ptrdiff_t>(covered),
                       stored_.begin() + static_cast<std::ptrdiff_t>(end));
  task.message_count = static_cast<int64_t>(end);
  return task;
}

void ChatSessionTurn::use_summary(SessionSummary summary, Json* body) {
  summarised_ = true;
  if (!summary.text.empty()) {
    summary_ = std::move(summary);
    new_summary_ = true;
  }
  rewrite(body);
}

Status ChatSessionTurn::client_status(const Status& status) const {
  const std::string& f = status.field();
  constexpr std::string_view kMessages = "messages[";
  if (f.rfind(kMessages, 0) != 0) return status;
  size_t index = 0;
  const char* begin = f.data() + kMessages.size();
  const auto [end, ec] = std::from_chars(begin, f.data() + f.size(), index);
  if (ec != std::errc() || index < num_prefix_) return status;
  const std::string client = fmt::format("messages[{}", index - num_prefix_);
  std::string message = status.message();
  if (const auto at = message.find(f.substr(0, static_cast<size_t>(end - f.data())));
      at != std::string::npos)
    message.replace(at, static_cast<size_t>(end - f.data()), client);
  return Status(status.code(), message).with_field(client + std::string(end, f.data() + f.size()));
}

std::optional<ApiError> ChatSessionTurn::check(const openai::ChatRequest& request) const {
  if (request.gen.n != 1)
    return invalid_request_error("a session turn has one choice ('n' must be 1)", "n");
  return std::nullopt;
}

Result<openai::ChatPrompt> ChatSessionTurn::prompt(const ServedModel& model,
                                                   openai::ChatRequest* request, bool with_tools) {
  const int64_t wanted = std::max<int64_t>(request->gen.max_tokens.value_or(1), 1);
  size_t prefix = num_prefix_;  // trimmed below; the request may be rendered again for a fallback
  dropped_ = 0;
  for (;;) {
    auto p = openai::chat_prompt(model, *request, with_tools);
    if (!p.ok()) return p;
    const bool fits =
        static_cast<int64_t>(p->tokens.size()) + wanted <= model.engine().ctx_per_slot();
    Json& msgs = request->messages;
    if (fits || prefix <= first_history_) {
      new_messages_.clear();
      for (size_t i = prefix; i < msgs.size(); ++i) {
        Json m = msgs[i];
        m["tokens"] = static_cast<int64_t>(
            model.model().tokenize(message_text(m["content"]), false, false).size());
        new_messages_.push_back(std::move(m));
      }
      return p;
    }
    // Drop the oldest stored turn: up to (not including) the next user message.
    size_t end = first_history_ + 1;
    while (end < prefix && msgs[end].value("role", "") != "user") ++end;
    msgs.erase(msgs.begin() + static_cast<std::ptrdiff_t>(first_history_),
               msgs.begin() + static_cast<std::ptrdiff_t>(end));
    prefix -= end - first_history_;
    dropped_ += end - first_history_;
  }
}

SessionResult<SessionRecord> ChatSessionTurn::commit(Json answer, const TurnUsage& usage) {
  std::vector<Json> messages = new_messages_;
  answer["tokens"] = usage.completion_tokens;
  answer["model"] = usage.model;
  answer["prompt_tokens"] = usage.prompt_tokens;
  answer["completion_tokens"] = usage.completion_tokens;
  answer["cached_tokens"] = usage.cached_tokens;
  answer["ttft_ms"] = usage.ttft_ms;
  answer["duration_ms"] = usage.duration_ms;
  messages.push_back(std::move(answer));
  return sessions_->append_turn(caller_, session_id_, expected_version_, std::move(messages),
                                usage, new_summary_ ? std::optional(summary_) : std::nullopt);
}

HeaderList ChatSessionTurn::response_headers(const SessionRecord& stored) const {
  return {{"X-Session-ID", session_id_}, {"ETag", "\"" + std::to_string(stored.version) + "\""}};
}

}  // namespace inferd::server::sessions

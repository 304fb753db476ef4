#include "server/api/openai/chat_completions.h"

#include <spdlog/spdlog.h>

#include "chat/output_parser.h"
#include "chat/output_parser_openai.h"
#include "inferd/structured_output.h"
#include "server/api/openai/chat_prompt.h"
#include "server/api/openai/chat_request.h"
#include "server/api/openai/generation_job.h"
#include "server/api/openai/model_defaults.h"
#include "server/api/openai/openai_json.h"
#include "server/api/sessions/history_summarizer.h"
#include "server/http/sse.h"
#include "server/sessions/chat_session_turn.h"

namespace inferd::server::openai {
namespace {

// What the output must follow, or nullptr: a forced tool call (tool_choice "required" or a
// named function), else the response_format's JSON object or schema.
Result<std::unique_ptr<TokenConstraint>> output_constraint(const ServedModel& m, const ChatRequest& r) {
  if (r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kFunction) {
    std::vector<ToolSchema> tools;
    for (const Json& t : r.tools) {
      const std::string name = t["function"]["name"];
      if (r.tool_choice == ToolChoice::kFunction && name != r.tool_choice_name) continue;
      const auto params = t["function"].find("parameters");
      tools.push_back({name, params != t["function"].end() ? *params : Json(nullptr)});
    }
    auto c = tool_call_constraint(m.model(), m.output_format(), tools);
    if (!c.ok()) return c.status().with_field("tools");
    return c;
  }
  switch (r.response_format) {
    case ResponseFormat::kText: return std::unique_ptr<TokenConstraint>();
    case ResponseFormat::kJsonObject: return json_object_constraint(m.model());
    case ResponseFormat::kJsonSchema: {
      auto c = json_schema_constraint(m.model(), r.json_schema);
      if (!c.ok()) return c.status().with_field("response_format.json_schema.schema");
      return c;
    }
  }
  return std::unique_ptr<TokenConstraint>();
}

// One choice's answer, read through the model's output parser (content, reasoning, tool calls).
class ChatJob : public GenerationJob {
 public:
  ChatJob(std::shared_ptr<Exchange> ex, const RoutedModel& m, const ChatRequest& r, std::string model_name,
          int64_t prompt_tokens, const chat::OutputParserOptions& parsing,
          std::shared_ptr<sessions::ChatSessionTurn> turn)
      : GenerationJob(std::move(ex), m, r.gen.stream, r.gen.n),
        turn_(std::move(turn)),
        id_(make_id("chatcmpl-")),
        created_(unix_now()),
        model_name_(std::move(model_name)),
        include_usage_(r.gen.include_usage),
        logprobs_(r.logprobs),
        prompt_tokens_(prompt_tokens) {
    for (int i = 0; i < r.gen.n; ++i) choices_.emplace_back(parsing);
  }

 private:
  struct Choice {
    explicit Choice(const chat::OutputParserOptions& o) : parser(o) {}
    chat::OutputParser parser;
    chat::ParsedOutput output;       // not streaming: the events so far, folded
    Json logprobs = Json::array();   // log-probabilities not yet sent (streaming) or all of them
    std::string finish_reason;
  };

  Json chunk(Json choices) const {
    Json j;
    j["id"] = id_;
    j["object"] = "chat.completion.chunk";
    j["created"] = created_;
    j["model"] = model_name_;
    j["system_fingerprint"] = system_fingerprint();
    j["choices"] = std::move(choices);
    if (include_usage_) j["usage"] = nullptr;
    return j;
  }
  Json delta_choice(int index, Json delta, Json logprobs, Json finish_reason) const {
    return {{"index", index}, {"delta", std::move(delta)}, {"logprobs", std::move(logprobs)},
            {"finish_reason", std::move(finish_reason)}};
  }
  Json take_logprobs(Choice& c) const {
    if (!logprobs_) return nullptr;
    Json lp = {{"content", std::move(c.logprobs)}, {"refusal", nullptr}};
    c.logprobs = Json::array();
    return lp;
  }

  void on_stream_start() override {
    for (int i = 0; i < num_choices_; ++i)
      send_event(chunk(Json::array({delta_choice(i, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr)})));
  }

  // Streams (or folds) the events of one choice; log-probabilities ride on the next delta.
  void emit(int i, const chat::OutputEvents& events) {
    Choice& c = choices_[i];
    if (!stream_ || turn_) chat::fold_output_events(events, &c.output);  // a session stores the answer
    if (!stream_) return;
    for (Json& delta : chat::openai_deltas(events))
      send_event(chunk(Json::array({delta_choice(i, std::move(delta), take_logprobs(c), nullptr)})));
  }

  void on_token(int i, TokenId, std::string_view text, const TokenLogprobs* lp) override {
    Choice& c = choices_[i];
    if (first_token_at_ == std::chrono::steady_clock::time_point{}) first_token_at_ = std::chrono::steady_clock::now();
    if (lp && logprobs_) c.logprobs.push_back(chat_logprob_json(model_.model(), *lp));
    if (!text.empty()) emit(i, c.parser.push(text));
  }

  void on_finish(int i, const GenerationResult& r) override {
    Choice& c = choices_[i];
    chat::OutputEvents events = c.parser.push(r.tail_text);
    c.parser.finish(&events);
    emit(i, events);
    c.finish_reason = chat::openai_finish_reason(c.parser.num_tool_calls(), finish_reason_text(r.reason, false));
    completion_tokens_ += r.completion_tokens;
    if (!stream_) return;
    if (logprobs_ && !c.logprobs.empty())
      send_event(chunk(Json::array({delta_choice(i, {{"content", ""}}, take_logprobs(c), nullptr)})));
    send_event(chunk(Json::array({delta_choice(i, Json::object(), nullptr, c.finish_reason)})));
  }

  void finish_response() override {
    const Json usage = usage_json(prompt_tokens_, completion_tokens_, cached_prompt_tokens(num_choices_));
    HeaderList headers;
    if (turn_) {  // the turn is stored before the client hears that it is complete
      auto stored = turn_->commit(chat::openai_message(choices_[0].output), turn_usage());
      if (!stored.ok()) return fail(stored.error());
      headers = turn_->response_headers(*stored);
    }
    if (stream_) {
      if (include_usage_) {
        Json last = chunk(Json::array());
        last["usage"] = usage;
        send_event(last);
      }
      (void)exchange_->send(std::string(kSseDone));
      (void)exchange_->finish();
      return;
    }
    Json choices = Json::array();
    for (int i = 0; i < num_choices_; ++i) {
      Choice& c = choices_[i];
      choices.push_back({{"index", i}, {"message", chat::openai_message(c.output)}, {"logprobs", take_logprobs(c)},
                         {"finish_reason", c.finish_reason}});
    }
    Json j = response_object(id_, "chat.completion", created_, model_name_, std::move(choices));
    j["usage"] = usage;
    (void)exchange_->respond(200, kJsonContentType, dump_json(j), std::move(headers));
  }

  sessions::TurnUsage turn_usage() const {
    using Ms = std::chrono::duration<double, std::milli>;
    const auto received = exchange_->request().received_at;
    const auto now = std::chrono::steady_clock::now();
    return {model_.id(), prompt_tokens_, completion_tokens_, cached_prompt_tokens(num_choices_),
            first_token_at_ == std::chrono::steady_clock::time_point{} ? Ms(now - received).count()
                                                                       : Ms(first_token_at_ - received).count(),
            Ms(now - received).count()};
  }

  const std::shared_ptr<sessions::ChatSessionTurn> turn_;
  std::chrono::steady_clock::time_point first_token_at_{};  // engine thread only
  const std::string id_;
  const int64_t created_;
  const std::string model_name_;
  const bool include_usage_;
  const bool logprobs_;
  const int64_t prompt_tokens_;
  int64_t completion_tokens_ = 0;
  std::vector<Choice> choices_;
};

}  // namespace

namespace {

// Answers a parsed, validated chat request with the model the router chose; `turn` (or null)
// holds the request's session.
void answer_chat(const ApiContext& api, const RoutedModel& routed, const Json& body, std::string_view requested,
                 std::shared_ptr<sessions::ChatSessionTurn> turn, std::shared_ptr<Exchange> exchange) {
  const ServedModel* m = routed.model.get();
  if (auto e = check_generates(*m)) return (void)respond_error(*exchange, *e);
  auto req = parse_chat_request(with_model_defaults(body, *m));
  if (!req.ok())
    return (void)respond_error(*exchange, api_error_from_status(turn ? turn->client_status(req.status()) : req.status()));
  // Checked once here (errors name the field); each choice then gets its own constraint.
  if (auto constraint = output_constraint(*m, *req); !constraint.ok())
    return (void)respond_error(*exchange, api_error_from_status(constraint.status()));
  const bool with_tools = !req->tools.is_null() && req->tool_choice != ToolChoice::kNone;
  auto prompt = turn ? turn->prompt(*m, &*req, with_tools) : chat_prompt(*m, *req, with_tools);
  if (!prompt.ok()) return (void)respond_error(*exchange, api_error_from_status(prompt.status()));
  if (auto task = turn ? turn->summary_due() : std::nullopt) {
    // The history did not fit: summarise its oldest part, then render the prompt again.
    return summarize_history(
        *api.router(), api.sessions->options(), *task,
        [&api, routed, body = Json(body), requested = std::string(requested), turn, exchange,
         count = task->message_count](Result<std::string> summary) mutable {
          if (!summary.ok())
            spdlog::warn("session '{}': no summary ({}); older turns are left out instead", turn->session_id(),
                         summary.status().to_string());
          turn->use_summary({summary.ok() ? *summary : std::string(), count}, &body);
          answer_chat(api, routed, body, requested, turn, exchange);
        });
  }
  const auto n_prompt = static_cast<int64_t>(prompt->tokens.size());
  if (auto e = check_context(*m, n_prompt, req->gen.max_tokens, "messages")) return (void)respond_error(*exchange, *e);

  chat::OutputParserOptions parsing;
  parsing.format = m->output_format();
  parsing.parse_tool_calls = with_tools;
  parsing.parse_reasoning = m->parse_reasoning();
  parsing.starts_in_reasoning = m->parse_reasoning() && chat::prompt_opens_reasoning(parsing.format, prompt->text);

  std::vector<GenerationRequest> requests;
  for (int i = 0; i < req->gen.n; ++i) {
    GenerationRequest g;
    g.prompt = prompt->tokens;
    g.skip_special = false;  // markers of calls and reasoning are special tokens in most vocabularies
    auto constraint = output_constraint(*m, *req);
    if (!constraint.ok()) return (void)respond_error(*exchange, api_error_from_status(constraint.status()));
    g.constraint = std::move(constraint).value();
    if (g.constraint) g.ignore_eos = false;  // a complete constrained output must be able to end
    g.sampling = req->gen.sampling;
    if (g.sampling.seed && i > 0) g.sampling.seed = *g.sampling.seed + static_cast<uint64_t>(i);
    const int64_t room = m->engine().ctx_per_slot() - n_prompt;
    g.max_tokens = req->gen.max_tokens ? *req->gen.max_tokens : std::max<int64_t>(room, 1);
    g.stop = req->gen.stop;
    g.ignore_eos = req->gen.ignore_eos;
    g.priority = req->gen.priority + routed.plan.priority;
    requests.push_back(std::move(g));
  }
  auto job = std::make_shared<ChatJob>(std::move(exchange), routed, *req, response_model_name(routed, requested),
                                       n_prompt, parsing, std::move(turn));
  job->run(std::move(requests));
}

}  // namespace

void handle_chat_completions(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange) {
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*exchange, api_error_from_status(body.status()));
  auto turn = sessions::ChatSessionTurn::begin(api.sessions, request, &*body);
  if (!turn.ok()) return (void)respond_error(*exchange, turn.error());
  // Validated before any model is loaded for it.
  auto req = parse_chat_request(*body);
  if (!req.ok())
    return (void)respond_error(*exchange, api_error_from_status(*turn ? (*turn)->client_status(req.status()) : req.status()));
  if (*turn)
    if (auto e = (*turn)->check(*req)) return (void)respond_error(*exchange, *e);
  std::string requested = req->gen.model;
  api.with_model(request, requested, exchange,
                 [&api, exchange, body = std::move(body).value(), requested, turn = std::move(*turn)](RoutedModel routed) {
                   answer_chat(api, routed, body, requested, turn, exchange);
                 });
}

}  // namespace inferd::server::openai

#include "server/api/openai/chat_completions.h"

#include <map>

#include "server/api/openai/chat_request.h"
#include "server/api/openai/generation_job.h"
#include "server/api/openai/openai_json.h"
#include "server/http/sse.h"

namespace inferd::server::openai {
namespace {

// Renders the conversation through the model's chat template and tokenizes it (special-token
// texts in the rendered prompt are parsed; BOS is added when the vocabulary wants it and the
// template did not write it).
Result<std::vector<TokenId>> chat_prompt(const ServedModel& m, const ChatRequest& r) {
  chat::ChatRequestView view;
  view.messages = &r.messages;
  const bool with_tools = !r.tools.is_null() && r.tool_choice != ToolChoice::kNone;
  view.tools = with_tools ? &r.tools : nullptr;
  view.add_generation_prompt = true;
  view.bos_token = m.bos_text();
  view.eos_token = m.eos_text();
  auto text = m.chat_template().render(view);
  if (!text.ok()) return invalid_argument("the model's chat template rejected the messages: {}", text.status().message());
  std::vector<TokenId> tokens;
  const Model& model = m.model();
  if (model.adds_bos() && model.bos() && !(!m.bos_text().empty() && text->rfind(m.bos_text(), 0) == 0))
    tokens.push_back(*model.bos());
  const auto body = model.tokenize(*text, /*add_special=*/false, /*parse_special=*/true);
  tokens.insert(tokens.end(), body.begin(), body.end());
  return tokens;
}

class ChatJob : public GenerationJob {
 public:
  ChatJob(std::shared_ptr<Exchange> ex, const ServedModel& m, const ChatRequest& r, std::string model_name,
          int64_t prompt_tokens)
      : GenerationJob(std::move(ex), m, r.gen.stream, r.gen.n),
        id_(make_id("chatcmpl-")),
        created_(unix_now()),
        model_name_(std::move(model_name)),
        include_usage_(r.gen.include_usage),
        logprobs_(r.logprobs),
        prompt_tokens_(prompt_tokens),
        choices_(r.gen.n) {}

 private:
  struct Choice {
    std::string text;
    Json logprobs = Json::array();
    std::string finish_reason;
    int64_t completion_tokens = 0;
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

  void on_stream_start() override {
    for (int i = 0; i < num_choices_; ++i)
      send_event(chunk(Json::array({delta_choice(i, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr)})));
  }

  void on_token(int i, TokenId token, std::string_view text, const TokenLogprobs* lp) override {
    Choice& c = choices_[i];
    c.completion_tokens++;
    if (lp && logprobs_) pending_logprobs_[i].push_back(chat_logprob_json(model_.model(), *lp));
    if (!stream_) {
      c.text.append(text);
      for (auto& e : pending_logprobs_[i]) c.logprobs.push_back(std::move(e));
      pending_logprobs_[i].clear();
      return;
    }
    if (text.empty()) return;  // held back; its log-probabilities go with the next text
    send_content(i, std::string(text));
  }

  void send_content(int i, std::string text) {
    Json lp = nullptr;
    if (logprobs_) {
      lp = {{"content", std::move(pending_logprobs_[i])}, {"refusal", nullptr}};
      pending_logprobs_[i] = Json::array();
    }
    send_event(chunk(Json::array({delta_choice(i, {{"content", std::move(text)}}, std::move(lp), nullptr)})));
  }

  void on_finish(int i, const GenerationResult& r) override {
    Choice& c = choices_[i];
    c.finish_reason = finish_reason_text(r.reason, false);
    completion_tokens_ += r.completion_tokens;
    if (!stream_) {
      c.text += r.tail_text;
      return;
    }
    if (!r.tail_text.empty() || (logprobs_ && !pending_logprobs_[i].empty())) send_content(i, r.tail_text);
    send_event(chunk(Json::array({delta_choice(i, Json::object(), nullptr, c.finish_reason)})));
  }

  void finish_response() override {
    const Json usage = usage_json(prompt_tokens_, completion_tokens_, 0);
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
      Json message = {{"role", "assistant"}, {"content", c.text}};
      Json lp = nullptr;
      if (logprobs_) lp = {{"content", std::move(c.logprobs)}, {"refusal", nullptr}};
      choices.push_back({{"index", i}, {"message", std::move(message)}, {"logprobs", std::move(lp)},
                         {"finish_reason", c.finish_reason}});
    }
    Json j;
    j["id"] = id_;
    j["object"] = "chat.completion";
    j["created"] = created_;
    j["model"] = model_name_;
    j["system_fingerprint"] = system_fingerprint();
    j["choices"] = std::move(choices);
    j["usage"] = usage;
    (void)exchange_->respond(200, kJsonContentType, dump_json(j));
  }

  const std::string id_;
  const int64_t created_;
  const std::string model_name_;
  const bool include_usage_;
  const bool logprobs_;
  const int64_t prompt_tokens_;
  int64_t completion_tokens_ = 0;
  std::vector<Choice> choices_;
  std::map<int, Json> pending_logprobs_;
};

}  // namespace

void handle_chat_completions(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange) {
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*exchange, api_error_from_status(body.status()));
  auto req = parse_chat_request(*body);
  if (!req.ok()) return (void)respond_error(*exchange, api_error_from_status(req.status()));
  ApiError error;
  const ServedModel* m = api.find_model(req->gen.model, &error);
  if (!m) return (void)respond_error(*exchange, error);
  if (req->response_format != ResponseFormat::kText)
    return (void)respond_error(*exchange, invalid_request_error("response_format is not supported yet", "response_format"));
  auto prompt = chat_prompt(*m, *req);
  if (!prompt.ok()) return (void)respond_error(*exchange, api_error_from_status(prompt.status()));

  if (auto e = check_context(*m, static_cast<int64_t>(prompt->size()), req->gen.max_tokens, "messages"))
    return (void)respond_error(*exchange, *e);

  std::vector<GenerationRequest> requests;
  for (int i = 0; i < req->gen.n; ++i) {
    GenerationRequest g;
    g.prompt = *prompt;
    g.sampling = req->gen.sampling;
    if (g.sampling.seed && i > 0) g.sampling.seed = *g.sampling.seed + static_cast<uint64_t>(i);
    const int64_t room = m->engine().ctx_per_slot() - static_cast<int64_t>(prompt->size());
    g.max_tokens = req->gen.max_tokens ? *req->gen.max_tokens : std::max<int64_t>(room, 1);
    g.stop = req->gen.stop;
    g.ignore_eos = req->gen.ignore_eos;
    requests.push_back(std::move(g));
  }
  const std::string name = req->gen.model.empty() ? m->id() : req->gen.model;
  auto job = std::make_shared<ChatJob>(std::move(exchange), *m, *req, name, static_cast<int64_t>(prompt->size()));
  job->run(std::move(requests));
}

}  // namespace inferd::server::openai

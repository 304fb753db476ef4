#include "server/api/openai/completions.h"

#include "inferd/text_stream.h"

#include <cstring>

#include <fmt/format.h>

#include "server/api/openai/completion_request.h"
#include "server/api/openai/generation_job.h"
#include "server/api/openai/model_defaults.h"
#include "server/api/openai/openai_json.h"
#include "server/http/sse.h"

namespace inferd::server::openai {
namespace {

class CompletionJob : public GenerationJob {
 public:
  // Choice k belongs to prompt k / n.
  CompletionJob(std::shared_ptr<Exchange> ex, const RoutedModel& m, const CompletionRequest& r,
                std::string model_name, std::vector<std::vector<TokenId>> prompts)
      : GenerationJob(std::move(ex), m, r.gen.stream, static_cast<int>(prompts.size()) * r.gen.n),
        id_(make_id("cmpl-")),
        created_(unix_now()),
        model_name_(std::move(model_name)),
        include_usage_(r.gen.include_usage),
        echo_(r.echo),
        logprobs_(r.logprobs >= 0),
        n_(r.gen.n),
        prompts_(std::move(prompts)),
        inputs_(r.prompts),
        choices_(num_choices_) {
    for (const auto& p : prompts_) prompt_tokens_ += static_cast<int64_t>(p.size());
  }

 private:
  struct Choice {
    std::string text;
    CompletionLogprobs logprobs;
    std::string finish_reason;
    bool echoed = false;
    int64_t chars = 0;  // characters of text answered so far (echo included)
  };

  Json chunk(int index, std::string text, Json logprobs, Json finish_reason) const {
    Json j;
    j["id"] = id_;
    j["object"] = "text_completion";
    j["created"] = created_;
    j["model"] = model_name_;
    j["system_fingerprint"] = system_fingerprint();
    j["choices"] = Json::array({{{"text", std::move(text)}, {"index", index}, {"logprobs", std::move(logprobs)},
                                 {"finish_reason", std::move(finish_reason)}}});
    if (include_usage_) j["usage"] = nullptr;
    return j;
  }

  // Echo: the prompt's text (and, with logprobs, its tokens) start the choice.
  void echo_prompt(int i, std::span<const TokenLogprobs> prompt_lp) {
    Choice& c = choices_[i];
    if (!echo_ || c.echoed) return;
    c.echoed = true;
    const auto& prompt = prompts_[i / n_];
    // Offsets index the prompt's decoded text (special tokens have none), which is the echoed
    // text for token prompts and the text as given for text prompts.
    TextStream decoder(model_.model(), /*skip_special=*/true, /*at_sequence_start=*/true);
    std::string decoded;
    CompletionLogprobs lp;
    for (size_t k = 0; k < prompt.size(); ++k) {
      if (logprobs_)
        lp.add(model_.model(), prompt[k], k == 0 || k - 1 >= prompt_lp.size() ? nullptr : &prompt_lp[k - 1],
               utf8_length(decoded));
      decoder.push(prompt[k], decoded);
    }
    decoder.flush(decoded);
    const auto* given = std::get_if<std::string>(&inputs_[i / n_]);
    const std::string text = given ? *given : decoded;
    c.chars = utf8_length(text);
    if (stream_) {
      send_event(chunk(i, text, logprobs_ ? lp.to_json() : Json(nullptr), nullptr));
    } else {
      c.text = text;
      c.logprobs = std::move(lp);
    }
  }

  void on_prompt_logprobs(int i, std::span<const TokenLogprobs> lp) override { echo_prompt(i, lp); }

  void on_token(int i, TokenId token, std::string_view text, const TokenLogprobs* lp) override {
    echo_prompt(i, {});
    Choice& c = choices_[i];
    const int64_t offset = std::exchange(c.chars, c.chars + utf8_length(text));
    if (!stream_) {
      c.text.append(text);
      if (logprobs_) c.logprobs.add(model_.model(), token, lp, offset);
      return;
    }
    CompletionLogprobs one;
    if (logprobs_) one.add(model_.model(), token, lp, offset);
    if (text.empty() && !logprobs_) return;
    send_event(chunk(i, std::string(text), logprobs_ ? one.to_json() : Json(nullptr), nullptr));
  }

  void on_finish(int i, const GenerationResult& r) override {
    echo_prompt(i, {});
    Choice& c = choices_[i];
    c.finish_reason = finish_reason_text(r.reason, false);
    completion_tokens_ += r.completion_tokens;
    if (!stream_) {
      c.text += r.tail_text;
      return;
    }
    send_event(chunk(i, r.tail_text, nullptr, c.finish_reason));
  }

  void finish_response() override {
    const Json usage = usage_json(prompt_tokens_, completion_tokens_, cached_prompt_tokens(n_));
    if (stream_) {
      if (include_usage_) {
        Json last = chunk(0, "", nullptr, nullptr);
        last["choices"] = Json::array();
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
      choices.push_back({{"text", c.text}, {"index", i},
                         {"logprobs", logprobs_ ? c.logprobs.to_json() : Json(nullptr)},
                         {"finish_reason", c.finish_reason}});
    }
    Json j = response_object(id_, "text_completion", created_, model_name_, std::move(choices));
    j["usage"] = usage;
    (void)exchange_->respond(200, kJsonContentType, dump_json(j));
  }

  const std::string id_;
  const int64_t created_;
  const std::string model_name_;
  const bool include_usage_, echo_, logprobs_;
  const int n_;
  const std::vector<std::vector<TokenId>> prompts_;
  const std::vector<PromptInput> inputs_;  // echo returns text prompts as given
  int64_t prompt_tokens_ = 0, completion_tokens_ = 0;
  std::vector<Choice> choices_;
};

class EmbeddingJob : public GenerationJob {
 public:
  EmbeddingJob(std::shared_ptr<Exchange> ex, const RoutedModel& m, std::string model_name, bool base64,
               int num_inputs, int64_t prompt_tokens)
      : GenerationJob(std::move(ex), m, /*stream=*/false, num_inputs),
        model_name_(std::move(model_name)),
        base64_(base64),
        prompt_tokens_(prompt_tokens),
        vectors_(num_inputs) {}

 private:
  void on_embedding(int i, std::span<const float> e) override { vectors_[i].assign(e.begin(), e.end()); }
  void on_token(int, TokenId, std::string_view, const TokenLogprobs*) override {}
  void on_finish(int, const GenerationResult&) override {}

  static std::string base64_of(const std::vector<float>& v) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes(v.size() * sizeof(float), '\0');
    std::memcpy(bytes.data(), v.data(), bytes.size());
    std::string out;
    for (size_t i = 0; i < bytes.size(); i += 3) {
      const uint32_t b0 = static_cast<uint8_t>(bytes[i]);
      const uint32_t b1 = i + 1 < bytes.size() ? static_cast<uint8_t>(bytes[i + 1]) : 0;
      const uint32_t b2 = i + 2 < bytes.size() ? static_cast<uint8_t>(bytes[i + 2]) : 0;
      const uint32_t w = (b0 << 16) | (b1 << 8) | b2;
      out += kAlphabet[(w >> 18) & 63];
      out += kAlphabet[(w >> 12) & 63];
      out += i + 1 < bytes.size() ? kAlphabet[(w >> 6) & 63] : '=';
      out += i + 2 < bytes.size() ? kAlphabet[w & 63] : '=';
    }
    return out;
  }

  void finish_response() override {
    Json data = Json::array();
    for (size_t i = 0; i < vectors_.size(); ++i) {
      Json e = {{"object", "embedding"}, {"index", i}};
      if (base64_) e["embedding"] = base64_of(vectors_[i]);
      else e["embedding"] = vectors_[i];
      data.push_back(std::move(e));
    }
    Json j = {{"object", "list"}, {"data", std::move(data)}, {"model", model_name_},
              {"usage", {{"prompt_tokens", prompt_tokens_}, {"total_tokens", prompt_tokens_}}}};
    (void)exchange_->respond(200, kJsonContentType, dump_json(j));
  }

  const std::string model_name_;
  const bool base64_;
  const int64_t prompt_tokens_;
  std::vector<std::vector<float>> vectors_;
};

}  // namespace

namespace {

// Answers a parsed, validated completion request with the model the router chose.
void answer_completion(const RoutedModel& routed, const Json& body, std::string_view requested,
                       std::shared_ptr<Exchange> exchange) {
  const ServedModel* m = routed.model.get();
  if (auto e = check_generates(*m)) return (void)respond_error(*exchange, *e);
  auto req = parse_completion_request(with_model_defaults(body, *m));
  if (!req.ok()) return (void)respond_error(*exchange, api_error_from_status(req.status()));
  if (req->prompts.size() * static_cast<size_t>(req->gen.n) > static_cast<size_t>(kMaxChoices) * 4)
    return (void)respond_error(*exchange, invalid_request_error("too many prompts times n (at most 64 generations)", "prompt"));

  std::vector<std::vector<TokenId>> prompts;
  std::vector<GenerationRequest> requests;
  const int64_t max_tokens = req->gen.max_tokens.value_or(16);  // OpenAI's default for completions
  for (const auto& input : req->prompts) {
    auto tokens = prompt_tokens(m->model(), input, "prompt");
    if (!tokens.ok()) return (void)respond_error(*exchange, api_error_from_status(tokens.status()));
    prompts.push_back(std::move(tokens).value());
    const auto& p = prompts.back();
    if (auto e = check_context(*m, static_cast<int64_t>(p.size()), max_tokens, "prompt"))
      return (void)respond_error(*exchange, *e);
    for (int i = 0; i < req->gen.n; ++i) {
      GenerationRequest g;
      g.prompt = p;
      g.sampling = req->gen.sampling;
      if (g.sampling.seed) g.sampling.seed = *g.sampling.seed + static_cast<uint64_t>(requests.size());
      g.max_tokens = max_tokens;
      g.stop = req->gen.stop;
      g.ignore_eos = req->gen.ignore_eos;
      g.priority = req->gen.priority + routed.plan.priority;
      if (req->echo && req->logprobs >= 0) g.prompt_logprobs = req->logprobs;
      requests.push_back(std::move(g));
    }
  }
  auto job = std::make_shared<CompletionJob>(std::move(exchange), routed, *req,
                                             response_model_name(routed, requested), std::move(prompts));
  job->run(std::move(requests));
}

void answer_embedding(const RoutedModel& routed, const EmbeddingRequest& r, std::string_view requested,
                      std::shared_ptr<Exchange> exchange) {
  const ServedModel* m = routed.model.get();
  const EmbeddingRequest* req = &r;
  if (req->dimensions != 0 && req->dimensions != m->model().info().n_embd)
    return (void)respond_error(*exchange, invalid_request_error(
        fmt::format("this model's embeddings have {} dimensions", m->model().info().n_embd), "dimensions"));

  std::vector<GenerationRequest> requests;
  int64_t total_tokens = 0;
  for (const auto& input : req->inputs) {
    GenerationRequest g;
    auto tokens = prompt_tokens(m->model(), input, "input");
    if (!tokens.ok()) return (void)respond_error(*exchange, api_error_from_status(tokens.status()));
    g.prompt = std::move(tokens).value();
    if (auto e = check_context(*m, static_cast<int64_t>(g.prompt.size()), 0, "input"))
      return (void)respond_error(*exchange, *e);
    total_tokens += static_cast<int64_t>(g.prompt.size());
    g.embedding = true;
    g.max_tokens = 0;
    requests.push_back(std::move(g));
  }
  auto job = std::make_shared<EmbeddingJob>(std::move(exchange), routed, response_model_name(routed, requested),
                                            req->base64, static_cast<int>(requests.size()), total_tokens);
  job->run(std::move(requests));
}

}  // namespace

void handle_completions(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange) {
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*exchange, api_error_from_status(body.status()));
  // Validated before any model is loaded for it.
  auto req = parse_completion_request(*body);
  if (!req.ok()) return (void)respond_error(*exchange, api_error_from_status(req.status()));
  std::string requested = req->gen.model;
  api.with_model(request, requested, exchange,
                 [exchange, body = std::move(body).value(), requested](RoutedModel routed) {
                   answer_completion(routed, body, requested, exchange);
                 });
}

void handle_embeddings(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange) {
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*exchange, api_error_from_status(body.status()));
  auto req = parse_embedding_request(*body);
  if (!req.ok()) return (void)respond_error(*exchange, api_error_from_status(req.status()));
  std::string requested = req->model;
  api.with_model(request, requested, exchange,
                 [exchange, req = std::move(req).value(), requested](RoutedModel routed) {
                   answer_embedding(routed, req, requested, exchange);
                 });
}

}  // namespace inferd::server::openai

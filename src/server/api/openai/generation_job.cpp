#include "server/api/openai/generation_job.h"

#include <algorithm>

#include <fmt/format.h>

#include "server/http/sse.h"

namespace inferd::server::openai {

class GenerationJob::ChoiceSink : public GenerationSink {
 public:
  ChoiceSink(std::shared_ptr<GenerationJob> job, int choice) : job_(std::move(job)), choice_(choice) {}
  void on_prompt_logprobs(std::span<const TokenLogprobs> lp) override {
    if (!job_->failed_) job_->on_prompt_logprobs(choice_, lp);
  }
  void on_embedding(std::span<const float> e) override {
    if (!job_->failed_) job_->on_embedding(choice_, e);
  }
  void on_token(TokenId token, std::string_view text, const TokenLogprobs* lp) override {
    if (!job_->failed_) job_->on_token(choice_, token, text, lp);
  }
  void on_finish(const GenerationResult& result) override { job_->finished_one(choice_, result); }

 private:
  std::shared_ptr<GenerationJob> job_;
  int choice_;
};

ApiError submit_error(const Status& status) {
  ApiError e = api_error_from_status(status);
  if (e.status == 503) e.retry_after_s = 1;  // the queue is full
  return e;
}

std::optional<ApiError> check_context(const ServedModel& model, int64_t prompt_tokens,
                                      std::optional<int64_t> max_tokens, const char* what) {
  const int64_t n_ctx = model.engine().ctx_per_slot();
  const int64_t wanted = max_tokens.value_or(1);
  if (prompt_tokens + std::max<int64_t>(wanted, 0) <= n_ctx) return std::nullopt;
  const std::string message =
      wanted > 0 ? fmt::format("This model's context holds {} tokens, but {} tokens were requested ({} in the {}, {} "
                               "for the completion). Shorten the {} or lower max_tokens.",
                               n_ctx, prompt_tokens + wanted, prompt_tokens, what, wanted, what)
                 : fmt::format("This model's context holds {} tokens, but the {} has {} tokens. Shorten the {}.",
                               n_ctx, what, prompt_tokens, what);
  return invalid_request_error(message, std::string(what), "context_length_exceeded");
}

GenerationJob::GenerationJob(std::shared_ptr<Exchange> exchange, const ServedModel& model, bool stream,
                             int num_choices)
    : exchange_(std::move(exchange)), model_(model), stream_(stream), num_choices_(num_choices) {}

void GenerationJob::send_event(const Json& data) { (void)exchange_->send(sse_data(dump_json(data))); }

void GenerationJob::fail(const ApiError& error) {
  if (failed_.exchange(true)) return;
  cancel_all();
  if (exchange_->response_started()) {
    (void)exchange_->send(sse_error(error));
    (void)exchange_->finish();
  } else {
    (void)respond_error(*exchange_, error);
  }
}

void GenerationJob::cancel_all() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ids = ids_;
  }
  for (uint64_t id : ids) model_.engine().cancel(id);
}

int64_t GenerationJob::cached_prompt_tokens(int choices_per_prompt) const {
  int64_t total = 0;
  for (size_t first = 0; first < cached_.size(); first += choices_per_prompt)
    total += *std::max_element(cached_.begin() + first,
                               cached_.begin() + std::min(cached_.size(), first + choices_per_prompt));
  return total;
}

void GenerationJob::run(std::vector<GenerationRequest> requests) {
  remaining_ = static_cast<int>(requests.size());
  cached_.assign(requests.size(), 0);
  if (stream_) {
    if (!exchange_->start_stream(200, sse_headers()).ok()) return;
    on_stream_start();
  }
  std::weak_ptr<GenerationJob> weak = weak_from_this();
  exchange_->on_cancel([weak] {
    if (auto job = weak.lock()) job->cancel_all();
  });
  for (size_t i = 0; i < requests.size(); ++i) {
    auto sink = std::make_shared<ChoiceSink>(shared_from_this(), static_cast<int>(i));
    auto id = model_.engine().submit(std::move(requests[i]), std::move(sink));
    if (!id.ok()) {
      fail(submit_error(id.status()));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ids_.push_back(*id);
  }
  if (exchange_->cancelled()) cancel_all();  // the client left while choices were submitted
}

void GenerationJob::finished_one(int choice, const GenerationResult& result) {
  if (failed_) return;
  if (result.reason == FinishReason::kError) {
    fail(server_error("generation failed: " + result.error.message()));
    return;
  }
  cached_[choice] = result.cached_tokens;
  on_finish(choice, result);
  if (--remaining_ > 0) return;
  if (exchange_->cancelled()) return;
  finish_response();
}

}  // namespace inferd::server::openai

#include "server/api/openai/generation_job.h"

#include <algorithm>

#include <fmt/format.h>

#include "server/http/sse.h"
#include "server/telemetry/model_telemetry.h"

namespace inferd::server::openai {

class GenerationJob::ChoiceSink : public GenerationSink {
 public:
  ChoiceSink(std::shared_ptr<GenerationJob> job, int choice) : job_(std::move(job)), choice_(choice) {}
  void on_prompt_logprobs(std::span<const TokenLogprobs> lp) override {
    if (job_->begin_stream()) job_->on_prompt_logprobs(choice_, lp);
  }
  void on_embedding(std::span<const float> e) override {
    if (!job_->failed_) job_->on_embedding(choice_, e);
  }
  void on_token(TokenId token, std::string_view text, const TokenLogprobs* lp) override {
    job_->observe_token(choice_);
    if (job_->begin_stream()) job_->on_token(choice_, token, text, lp);
  }
  void on_finish(const GenerationResult& result) override {
    job_->observe_finish(choice_, result);
    if (result.reason == FinishReason::kError || job_->begin_stream())
      job_->finished_one(choice_, result);
  }

 private:
  std::shared_ptr<GenerationJob> job_;
  int choice_;
};

ApiError submit_error(const Status& status) {
  ApiError e = api_error_from_status(status);
  if (e.status == 503) e.retry_after_s = 1;  // the queue is full
  return e;
}

std::optional<ApiError> check_generates(const ServedModel& model) {
  if (model.generates()) return std::nullopt;
  return invalid_request_error(
      fmt::format("The model '{}' is an embedding model; use it with /v1/embeddings", model.id()), std::string("model"),
      "model_not_supported");
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

GenerationJob::GenerationJob(std::shared_ptr<Exchange> exchange, const RoutedModel& routed, bool stream,
                             int num_choices)
    : exchange_(std::move(exchange)),
      lease_(routed.model),
      model_(*lease_),
      stream_(stream),
      num_choices_(num_choices),
      fall_back_(routed.fall_back),
      series_(model_.telemetry() ? &model_.telemetry()->for_service(exchange_->request().caller.service)
                                 : nullptr),
      last_token_at_(static_cast<size_t>(std::max(num_choices, 0))) {
  exchange_->annotate("model", model_.id());
}

void GenerationJob::send_event(const Json& data) { (void)exchange_->send(sse_data(dump_json(data))); }

bool GenerationJob::begin_stream() {
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_) return false;
  if (!stream_ || stream_begun_) return true;
  stream_begun_ = true;
  if (!exchange_->start_stream(200, sse_headers()).ok()) {
    failed_ = true;  // the client is gone; its cancellation reaches every choice
    return false;
  }
  stream_started_at_ = Clock::now();
  on_stream_start();
  return true;
}

void GenerationJob::fail(const ApiError& error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_.exchange(true)) return;
  }
  cancel_all();
  if (stream_) export_stream_span(false);
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
  if (last_token_at_.size() < requests.size()) last_token_at_.resize(requests.size());
  submitted_at_ = Clock::now();
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
    ApiError error = server_error("generation failed: " + result.error.message());
    error.code = "generation_failed";
    if (fall_back_ && !exchange_->response_started() && !exchange_->cancelled()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (failed_.exchange(true)) return;
      }
      cancel_all();
      fall_back_(std::move(error));  // a new job answers
      return;
    }
    fail(error);
    return;
  }
  cached_[choice] = result.cached_tokens;
  on_finish(choice, result);
  if (--remaining_ > 0) return;
  exchange_->annotate("prompt_tokens", std::to_string(prompt_tokens_));
  exchange_->annotate("completion_tokens", std::to_string(completion_tokens_));
  exchange_->annotate("cached_tokens", std::to_string(cached_tokens_));
  if (exchange_->cancelled()) return;
  // The stream span ends before the last events go out, so that it ends inside the request's
  // span (which ends when the response does).
  if (stream_) export_stream_span(true);
  finish_response();
}

void GenerationJob::observe_token(int choice) {
  if (series_ == nullptr) return;
  const Clock::time_point now = Clock::now();
  if (!first_token_seen_) {
    first_token_seen_ = true;
    series_->observe_time_to_first_token(std::chrono::duration<double>(now - exchange_->request().received_at).count());
  }
  if (choice < 0 || static_cast<size_t>(choice) >= last_token_at_.size()) return;
  Clock::time_point& last = last_token_at_[static_cast<size_t>(choice)];
  if (last != Clock::time_point{}) series_->observe_inter_token(std::chrono::duration<double>(now - last).count());
  last = now;
}

void GenerationJob::observe_finish(int choice, const GenerationResult& result) {
  prompt_tokens_ += result.prompt_tokens;
  completion_tokens_ += result.completion_tokens;
  cached_tokens_ += result.cached_tokens;
  ModelTelemetry* t = model_.telemetry();
  if (t == nullptr) return;
  series_->observe_queue(result.queue_ms / 1e3);
  series_->add_tokens(result.prompt_tokens, result.completion_tokens, result.cached_tokens);

  const tracing::TraceContext& trace = exchange_->request().trace;
  if (!t->tracing() || !trace.sampled()) return;
  // The engine's phases laid end to end from the submission: queue, prefill, decode.
  const uint64_t start_ns = tracing::to_unix_ns(submitted_at_);
  const double phase_ms[] = {result.queue_ms, result.prefill_ms, result.decode_ms};
  const char* names[] = {"queue", "prefill", "decode"};
  uint64_t at_ns = start_ns;
  for (int i = 0; i < 3; ++i) {
    tracing::SpanData span;
    span.trace_id = trace.trace_id;
    span.span_id = tracing::new_span_id();
    span.parent_span_id = trace.span_id;
    span.name = names[i];
    span.start_unix_ns = at_ns;
    at_ns += static_cast<uint64_t>(std::max(phase_ms[i], 0.0) * 1e6);
    span.end_unix_ns = at_ns;
    span.set("inferd.model", model_.id());
    span.set("inferd.choice", choice);
    if (i == 1) {
      span.set("inferd.prompt_tokens", result.prompt_tokens);
      span.set("inferd.cached_tokens", result.cached_tokens);
    } else if (i == 2) {
      span.set("inferd.completion_tokens", result.completion_tokens);
      span.set("inferd.finish_reason", finish_reason_name(result.reason));
      if (result.reason == FinishReason::kError) {
        span.status = tracing::SpanStatus::kError;
        span.status_message = result.error.message();
      }
    }
    t->export_span(std::move(span));
  }
}

void GenerationJob::export_stream_span(bool ok) {
  ModelTelemetry* t = model_.telemetry();
  const tracing::TraceContext& trace = exchange_->request().trace;
  if (t == nullptr || !t->tracing() || !trace.sampled() || stream_started_at_ == Clock::time_point{}) return;
  tracing::SpanData span;
  span.trace_id = trace.trace_id;
  span.span_id = tracing::new_span_id();
  span.parent_span_id = trace.span_id;
  span.name = "stream";
  span.start_unix_ns = tracing::to_unix_ns(stream_started_at_);
  span.end_unix_ns = tracing::to_unix_ns(Clock::now());
  span.set("inferd.model", model_.id());
  if (ok) {
    span.set("inferd.completion_tokens", completion_tokens_);  // final: every choice finished
  } else {
    span.status = tracing::SpanStatus::kError;
  }
  t->export_span(std::move(span));
}

}  // namespace inferd::server::openai

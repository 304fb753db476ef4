// GenerationJob: the generations of one HTTP request (n choices, several prompts) bridged to its
// Exchange. Each choice runs as one EngineLoop request; engine callbacks (all on the model's
// engine thread) reach the endpoint's overrides with the choice index. The client going away
// cancels every choice. When every choice has finished, finish_response() answers (a whole
// response) or ends the stream.
//
// Telemetry (when the model has it): time to first token, inter-token latency, queue time and
// token counts per model and calling service; child spans of the request's server span for
// each choice's queue, prefill and decode, and for the stream; the model and token totals are
// noted on the exchange.
//
// Streaming: the stream starts (200 and on_stream_start()) with the first event of a choice, so
// a request that fails before then still gets a plain error response. A failure after that
// ends the stream with an error event.
//
// Fallback: when a choice fails (the engine reports an error) before the response has started
// and the routed model has a fallback left, the job gives up quietly (cancelling its other
// choices) and the request is answered again by the fallback model.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "inferd/engine_loop.h"
#include "server/api/json_body.h"
#include "server/http/error_response.h"
#include "server/http/exchange.h"
#include "server/registry/model_registry.h"
#include "server/registry/model_router.h"
#include "server/served_model.h"
#include "server/telemetry/model_telemetry.h"

namespace inferd::server::openai {

class GenerationJob : public std::enable_shared_from_this<GenerationJob> {
 public:
  // `routed.model` is held (kept in memory) until the job is destroyed.
  GenerationJob(std::shared_ptr<Exchange> exchange, const RoutedModel& routed, bool stream,
                int num_choices);
  virtual ~GenerationJob() = default;

  // Submits every request (index = choice) and answers errors itself. Call once.
  void run(std::vector<GenerationRequest> requests);

 protected:
  // Engine-thread callbacks for one choice.
  virtual void on_prompt_logprobs(int choice, std::span<const TokenLogprobs> logprobs) {}
  virtual void on_embedding(int choice, std::span<const float> embedding) {}
  virtual void on_token(int choice, TokenId token, std::string_view text, const TokenLogprobs* lp) = 0;
  virtual void on_finish(int choice, const GenerationResult& result) = 0;
  // Streaming: sent once the stream has started, before any choice's events.
  virtual void on_stream_start() {}
  // Every choice has finished (none failed): answer or end the stream.
  virtual void finish_response() = 0;

  // Prompt tokens the prefix cache provided: for each group of `choices_per_prompt` choices
  // (which share one prompt) the most any of them got, summed over the prompts.
  int64_t cached_prompt_tokens(int choices_per_prompt) const;

  // Streaming helpers: one SSE event of `data`; the error event followed by the end of stream.
  void send_event(const Json& data);
  void fail(const ApiError& error);

  std::shared_ptr<Exchange> exchange_;
  const ModelLease lease_;
  const ServedModel& model_;
  const bool stream_;
  const int num_choices_;

 private:
  class ChoiceSink;
  // Starts the stream before a choice's first event (once; engine thread); false when the job
  // has failed or the client is gone.
  bool begin_stream();
  void cancel_all();
  void finished_one(int choice, const GenerationResult& result);
  // Telemetry, on the engine thread.
  void observe_token(int choice);
  void observe_finish(int choice, const GenerationResult& result);
  void export_stream_span(bool ok);

  const std::function<void(ApiError)> fall_back_;  // empty: no fallback left
  ModelTelemetry::Series* const series_;          // the caller's service's; null without telemetry

  std::mutex mu_;                 // guards ids_, and the changes of failed_ and stream_begun_
  std::vector<uint64_t> ids_;     // engine ids of submitted choices
  std::atomic<bool> failed_{false};
  bool stream_begun_ = false;
  int remaining_ = 0;             // engine thread only (after submission)
  std::vector<int64_t> cached_;   // per choice; engine thread only
  std::atomic<int> submitted_{0};

  using Clock = std::chrono::steady_clock;
  Clock::time_point submitted_at_{};     // set before the first submission
  Clock::time_point stream_started_at_{};
  // Engine thread only:
  bool first_token_seen_ = false;
  std::vector<Clock::time_point> last_token_at_;  // per choice; epoch before its first token
  int64_t prompt_tokens_ = 0, completion_tokens_ = 0, cached_tokens_ = 0;
};

// Converts an engine submission error to the API error it should produce.
ApiError submit_error(const Status& status);

// The 400 for a prompt (plus the requested completion) that does not fit the model's context,
// or nothing. `what` names the input ("messages", "prompt").
std::optional<ApiError> check_context(const ServedModel& model, int64_t prompt_tokens,
                                      std::optional<int64_t> max_tokens, const char* what);

// The 400 for a generation request routed to an embedding model, or nothing.
std::optional<ApiError> check_generates(const ServedModel& model);

}  // namespace inferd::server::openai

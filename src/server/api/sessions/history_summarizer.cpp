#include "server/api/sessions/history_summarizer.h"

#include <fmt/format.h>

#include "inferd/engine_loop.h"
#include "server/api/openai/chat_prompt.h"
#include "server/api/openai/chat_request.h"
#include "server/api/openai/model_defaults.h"

namespace inferd::server {
namespace {

constexpr std::string_view kInstruction =
    "Summarise the conversation below for whoever continues it. Keep every fact, name, number, "
    "decision and open question; leave out pleasantries. Write at most a few short paragraphs, "
    "in the conversation's language, and nothing but the summary.";

using Done = std::function<void(Result<std::string>)>;

// Collects the generated text; holds the summary model until the generation ends.
class SummarySink : public GenerationSink {
 public:
  SummarySink(ModelLease model, Done done) : model_(std::move(model)), done_(std::move(done)) {}
  void on_token(TokenId, std::string_view text, const TokenLogprobs*) override { text_ += text; }
  void on_finish(const GenerationResult& r) override {
    if (r.reason == FinishReason::kError) return done_(r.error);
    if (r.reason == FinishReason::kCancelled)
      return done_(internal_error("the summary was cancelled"));
    text_ += r.tail_text;
    const size_t begin = text_.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return done_(internal_error("the summary model wrote nothing"));
    const size_t end = text_.find_last_not_of(" \t\r\n");
    done_(text_.substr(begin, end + 1 - begin));
  }

 private:
  ModelLease model_;
  Done done_;
  std::string text_;
};

std::string transcript(const sessions::ChatSessionTurn::SummaryTask& task) {
  std::string out = std::string(kInstruction) + "\n\n";
  if (!task.previous.empty()) out += "Summary so far:\n" + task.previous + "\n\n";
  out += "Conversation:\n";
  for (const Json& m : task.messages) {
    const std::string text = sessions::message_text(m.value("content", Json()));
    if (!text.empty()) out += fmt::format("{}: {}\n", m.value("role", "user"), text);
  }
  return out;
}

void generate(const RoutedModel& routed, const sessions::SessionOptions& options,
              const sessions::ChatSessionTurn::SummaryTask& task, Done done) {
  const ServedModel& m = *routed.model;
  if (!m.generates()) return done(invalid_argument("'{}' is an embedding model", m.id()));
  const Json body = {{"messages", {{{"role", "user"}, {"content", transcript(task)}}}},
                     {"max_tokens", options.summary_max_tokens},
                     {"temperature", 0}};
  auto req = openai::parse_chat_request(openai::with_model_defaults(body, m));
  if (!req.ok()) return done(req.status());
  auto prompt = openai::chat_prompt(m, *req, false);
  if (!prompt.ok()) return done(prompt.status());
  const auto n_prompt = static_cast<int64_t>(prompt->tokens.size());
  if (n_prompt + options.summary_max_tokens > m.engine().ctx_per_slot())
    return done(invalid_argument("the history to summarise ({} tokens) does not fit the context "
                                 "of '{}' ({} tokens)",
                                 n_prompt, m.id(), m.engine().ctx_per_slot()));
  GenerationRequest g;
  g.prompt = std::move(prompt->tokens);
  g.sampling = req->gen.sampling;
  g.max_tokens = options.summary_max_tokens;
  auto sink = std::make_shared<SummarySink>(routed.model, done);
  if (auto id = m.engine().submit(std::move(g), sink); !id.ok()) done(id.status());
}

}  // namespace

void summarize_history(const ModelRouter& router, const sessions::SessionOptions& options,
                       const sessions::ChatSessionTurn::SummaryTask& task, Done done) {
  router.route("", options.summary_model,
               [options, task, done = std::move(done)](std::variant<RoutedModel, ApiError> r) {
                 if (auto* e = std::get_if<ApiError>(&r)) return done(internal_error("{}", e->message));
                 generate(std::get<RoutedModel>(r), options, task, done);
               });
}

}  // namespace inferd::server

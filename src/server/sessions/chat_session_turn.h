// ChatSessionTurn: one chat completion that continues a stored session.
//
// A request names its session with "session_id" in the body or an X-Session-ID header (and may
// send If-Match: the session version it expects). begin() loads the session and rewrites the
// body: the session's generation parameters fill the fields the request leaves out, and the
// messages become [system prompt] + stored history + the request's messages. prompt() renders
// it, trimming the history to the context (policy below). When the answer is complete, commit()
// appends the request's messages and the answer in one atomic store write; a turn that fails or
// is cancelled never reaches commit(), so it stores nothing.
//
// Trimming policy: while the prompt plus max_tokens (or 1) exceeds the model's context, the
// oldest stored turn (a user message and everything up to the next user message) is left out of
// the prompt; the system prompt and the request's own messages are always kept. The store keeps
// the whole history; only the prompt is shortened. If nothing is left to drop, the request gets
// the usual context_length_exceeded error.
//
// Summaries: when a summary model is configured and trimming dropped messages, summary_due()
// names the messages to summarise: the dropped ones and at least half of the rest of the
// history, up to the start of a turn, after any earlier summary (which the new one extends).
// use_summary() puts it in the prompt: the system message (the session's system prompt, if
// any, then kSummaryHeading and the summary) stands for those messages, and trimming goes on
// from there. A turn summarises at most once; the summary is stored with the turn (commit()),
// so later turns start from it and share its prefix in the KV cache.
//
// The prompt of turn k+1 starts with the rendered turns 1..k, so the engine's prefix cache
// reuses their KV blocks (usage.prompt_tokens_details.cached_tokens), unless trimming or a new
// summary changed the start of the history.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/api/openai/chat_prompt.h"
#include "server/http/request.h"
#include "server/sessions/session_service.h"

namespace inferd::server::sessions {

inline constexpr std::string_view kSummaryHeading = "Summary of the earlier conversation:\n";

class ChatSessionTurn {
 public:
  // Messages to summarise (see the policy above).
  struct SummaryTask {
    std::string previous;        // the summary they continue; "" = none
    std::vector<Json> messages;  // oldest first, as a chat template sees them
    int64_t message_count = 0;   // the new summary stands for the stored messages [0, this)
  };

  // nullptr when the request names no session; errors: 400 (sessions off, bad If-Match,
  // conflicting ids), 404, 409.
  static SessionResult<std::shared_ptr<ChatSessionTurn>> begin(
      const std::shared_ptr<SessionService>& sessions, const Request& request, Json* body);

  // `status` of the rewritten request as the client sees it: "messages[i]" names the client's
  // own message i, not the position after the prepended history.
  Status client_status(const Status& status) const;
  // Checks the parsed request (a session turn has one choice).
  std::optional<ApiError> check(const openai::ChatRequest& request) const;
  // The prompt, with the history trimmed to fit; `request->messages` is trimmed alike.
  Result<openai::ChatPrompt> prompt(const ServedModel& model, openai::ChatRequest* request,
                                    bool with_tools);
  // After prompt(): the summary this turn should make first, if any.
  std::optional<SummaryTask> summary_due() const;
  // Rewrites the request body's messages with `summary` of the task's messages (an empty text:
  // no summary could be made; trimming alone applies). Render the prompt again after it.
  void use_summary(SessionSummary summary, Json* body);
  // Stores the turn: the request's messages and `answer` (an OpenAI assistant message), and the
  // summary this turn made.
  SessionResult<SessionRecord> commit(Json answer, const TurnUsage& usage);

  const std::string& session_id() const { return session_id_; }
  // X-Session-ID and the new ETag, after a commit.
  HeaderList response_headers(const SessionRecord& stored) const;

 private:
  ChatSessionTurn() = default;
  // Sets the body's messages: the system message, the history after the summary, the client's.
  void rewrite(Json* body);

  std::shared_ptr<SessionService> sessions_;
  Caller caller_;
  std::string session_id_;
  std::optional<int64_t> expected_version_;
  size_t first_history_ =
      0;  // index of the first stored message in the request (after the system prompt)
  size_t num_prefix_ = 0;           // system prompt + stored history in the request (untrimmed)
  std::vector<Json> new_messages_;  // the request's own messages with their token counts
  std::optional<std::string> system_prompt_;
  std::vector<Json> stored_;  // the stored history, as the template sees it
  std::vector<Json> client_;  // the request's own messages
  SessionSummary summary_;    // the stored one, or the one this turn made
  bool new_summary_ = false;  // summary_ was made by this turn
  bool summarised_ = false;   // use_summary() was called
  size_t dropped_ = 0;        // stored messages the last prompt() left out
};

// The text of a message's content (a string, or the text parts of an array).
std::string message_text(const Json& content);

// The version an If-Match value names ("7", "\"7\""); nothing when malformed.
std::optional<int64_t> parse_if_match(std::string_view value);

}  // namespace inferd::server::sessions

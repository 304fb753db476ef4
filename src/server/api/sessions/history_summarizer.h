// Summaries of a session's older messages for its chat turns (the policy is in
// chat_session_turn.h). The summary model (sessions.summary_model) is routed to like any other
// model (loaded on demand, with its fallbacks), as the server's own work rather than the
// caller's service, and is asked at temperature 0 for a short summary of the earlier summary
// followed by the messages.
#pragma once

#include <functional>

#include "server/registry/model_router.h"
#include "server/sessions/chat_session_turn.h"

namespace inferd::server {

// Calls `done` with the summary text (never empty) or why none could be made (the model cannot
// be loaded, the transcript does not fit its context, generation failed). `done` runs on this
// thread, the registry's or the summary model's engine thread.
void summarize_history(const ModelRouter& router, const sessions::SessionOptions& options,
                       const sessions::ChatSessionTurn::SummaryTask& task,
                       std::function<void(Result<std::string>)> done);

}  // namespace inferd::server

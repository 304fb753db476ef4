// Conversion of OpenAI-style request messages into the values a chat template receives, and
// detection of the template capabilities that conversion depends on (see chat_template.h).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "chat/chat_template.h"
#include "chat/jinja/template.h"
#include "chat/jinja/value.h"

namespace inferd::chat {

// Messages as template values: content-part arrays joined (unless caps.iterates_content),
// tool-call arguments parsed into objects (caps.object_arguments) or serialised to strings.
// Fails for a non-array, non-object messages, or non-text content parts that must be joined.
Result<jinja::Value> messages_to_value(const nlohmann::ordered_json& messages,
                                       const ChatTemplateCaps& caps, uint32_t max_depth);

// True when the template has a {% for %} over message content (`x.content`, `x['content']`, or
// a variable {% set %} from one).
bool template_iterates_content(const jinja::TemplateAst& ast);

// True when the template renders a probe tool call's arguments as JSON only when they are
// given as an object, not as a JSON string.
bool template_wants_object_arguments(const jinja::Template& tmpl);

}  // namespace inferd::chat

// ISO-8601 UTC timestamps as session records store them: "2026-11-29T03:41:07.123000+00:00"
// (Python's datetime.isoformat() of an aware UTC time, which chuk-sessions writes and reads).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace inferd::server::sessions {

// Unix milliseconds -> "YYYY-MM-DDTHH:MM:SS.ffffff+00:00".
std::string format_iso8601(int64_t unix_ms);
// Accepts "YYYY-MM-DDTHH:MM:SS" with an optional fraction (1-9 digits) and a zone of "Z",
// "+00:00" or "+HH:MM"/"-HH:MM"; nothing when malformed.
std::optional<int64_t> parse_iso8601(std::string_view text);
// The UTC day of a Unix time, "YYYY-MM-DD".
std::string utc_day(int64_t unix_ms);

}  // namespace inferd::server::sessions

#pragma once
// Wall-clock instants with RFC 3339 text form.
//
// Ollama writes times as Go's time.Time marshals them: RFC 3339 with up to nine
// fractional digits and a numeric offset or "Z" ("2024-06-04T14:38:31.83753-07:00").
// A model kept forever expires about 292 years ahead, past what a nanosecond
// int64 time_point can hold, so instants are kept in microseconds.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace core::util {

using Clock = std::chrono::system_clock;
using Timestamp = std::chrono::time_point<Clock, std::chrono::microseconds>;

Timestamp now();

// Parses RFC 3339 ("2024-06-04T14:38:31.83753-07:00", "...Z", lower-case t/z,
// a space instead of T). Returns nullopt when malformed.
std::optional<Timestamp> parse_rfc3339(std::string_view text);

// "2026-11-22T10:00:00.123456Z" (UTC, microseconds).
std::string format_rfc3339(Timestamp t);

// Go's zero time.Time, "0001-01-01T00:00:00Z": what Ollama sends for "unset".
bool is_go_zero_time(Timestamp t);

// A time relative to `now` as Ollama prints one (format/time.go, its ls
// MODIFIED and ps UNTIL columns): "Less than a second ago", "About a minute
// ago", "4 minutes from now", "3 days ago", "18 months ago"; "Forever" more
// than 20 years ahead.
std::string human_time(Timestamp t, Timestamp now);

} // namespace core::util

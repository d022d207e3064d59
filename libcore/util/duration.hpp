#pragma once
// Durations as people and Ollama write them.
//
// Ollama's API accepts keep_alive either as a JSON number of seconds or as a Go
// duration string ("5m", "1h30m", "-1s"); a unitless string such as "300" is
// rejected by Go's time.ParseDuration (api/types.go, Duration.UnmarshalJSON).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace core::util {

using Seconds = std::chrono::duration<double>;

// Parses a Go duration string exactly as time.ParseDuration does: an optional
// sign, then one or more decimal numbers each with a unit (ns, us, µs, ms, s,
// m, h); "0" alone is allowed. Returns nullopt on anything else.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// A keep-alive as a user gives it: a Go duration ("30m", "1h30m"), a plain
// number of seconds ("300"), days ("2d"), or "forever"/"never"/any negative
// value, which means the model stays loaded until told otherwise.
struct KeepAlive {
    bool forever = false;
    Seconds value{0};

    // The JSON value Ollama expects: a number of seconds, -1 for forever.
    double json_seconds() const { return forever ? -1.0 : value.count(); }
    friend bool operator==(const KeepAlive&, const KeepAlive&) = default;
};
std::optional<KeepAlive> parse_keep_alive(std::string_view text);

// The longest duration modelctl takes anywhere: 100 years (36500d).
inline constexpr Seconds kMaxDuration{36500.0 * 86400.0};
inline constexpr const char* kMaxDurationText = "36500d";

// A user-facing duration ("30s", "1.5m", "2h", "1d", "250ms" or bare seconds);
// negative values, and values past kMaxDuration, are refused. Returns nullopt
// on bad input.
std::optional<Seconds> parse_duration(std::string_view text);

// Compact human form: "850ms", "42s", "4m", "1h30m", "3d4h". Rounds down to
// the two largest units.
std::string format_duration(Seconds d);

} // namespace core::util

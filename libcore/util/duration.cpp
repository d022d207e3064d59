#include "util/duration.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace core::util {

namespace {

// Unit lengths in nanoseconds, as in Go's time package.
std::optional<double> unit_ns(std::string_view u) {
    if (u == "ns")
        return 1.0;
    if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") // µs (micro sign, Greek mu)
        return 1e3;
    if (u == "ms")
        return 1e6;
    if (u == "s")
        return 1e9;
    if (u == "m")
        return 60e9;
    if (u == "h")
        return 3600e9;
    return std::nullopt;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Parses "123", "1.5", ".5" at the front of s; advances s.
std::optional<double> take_number(std::string_view& s) {
    size_t i = 0;
    bool digits = false;
    while (i < s.size() && is_digit(s[i])) {
        ++i;
        digits = true;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_digit(s[i])) {
            ++i;
            digits = true;
        }
    }
    if (!digits)
        return std::nullopt;
    // from_chars, not stod: a number too large for a double is "not a
    // duration", not an exception (found by fuzz_text).
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + i, v);
    if (ec != std::errc() || end != s.data() + i)
        return std::nullopt;
    s.remove_prefix(i);
    return v;
}

} // namespace

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s == "0")
        return std::chrono::nanoseconds(0);
    if (s.empty())
        return std::nullopt;
    double total = 0;
    while (!s.empty()) {
        auto n = take_number(s);
        if (!n)
            return std::nullopt;
        size_t i = 0;
        while (i < s.size() && s[i] != '.' && !is_digit(s[i]))
            ++i;
        auto u = unit_ns(s.substr(0, i));
        if (!u)
            return std::nullopt; // covers the missing unit, as Go does
        total += *n * *u;
        s.remove_prefix(i);
    }
    if (!(total < static_cast<double>(std::numeric_limits<int64_t>::max()))) // NaN too
        return std::nullopt; // Go: "invalid duration" on overflow
    auto ns = std::chrono::nanoseconds(static_cast<int64_t>(std::llround(total)));
    return negative ? -ns : ns;
}

std::optional<Seconds> parse_duration(std::string_view text) {
    std::string_view s = util::trim_blanks(text);
    if (s.empty() || s.front() == '-')
        return std::nullopt;
    if (s.front() == '+')
        s.remove_prefix(1);
    if (s.empty() || s.front() == '+' || s.front() == '-')
        return std::nullopt; // one sign at most: "+-2s" is not a duration (found by fuzz_text)
    std::string_view rest = s;
    std::optional<Seconds> d;
    if (auto n = take_number(rest); n && rest.empty())
        d = Seconds(*n); // bare seconds
    else if (n && rest == "d")
        d = Seconds(*n * 86400.0);
    else if (auto ns = parse_go_duration(s))
        d = std::chrono::duration_cast<Seconds>(*ns);
    // Every duration modelctl takes becomes milliseconds or nanoseconds in
    // an int64 somewhere: past the maximum that would overflow.
    if (d && !(d->count() >= 0 && d->count() <= kMaxDuration.count()))
        return std::nullopt;
    return d;
}

std::optional<KeepAlive> parse_keep_alive(std::string_view text) {
    std::string_view s = util::trim_blanks(text);
    if (s == "forever" || s == "never" || s == "inf" || s == "infinite")
        return KeepAlive{true, Seconds(0)};
    if (!s.empty() && s.front() == '-') {
        // Ollama treats any negative keep_alive as "stay loaded forever".
        std::string_view body = s.substr(1);
        std::string_view rest = body;
        auto n = take_number(rest);
        if ((n && rest.empty()) || parse_go_duration(body))
            return KeepAlive{true, Seconds(0)};
        return std::nullopt;
    }
    if (auto d = parse_duration(s))
        return KeepAlive{false, *d};
    return std::nullopt;
}

std::string format_duration(Seconds d) {
    double t = std::min(d.count(), kMaxDuration.count()); // NaN: "0ms"
    if (!(t == t))
        t = 0;
    if (t < 0)
        return "-" + format_duration(Seconds(-t));
    if (t < 1.0)
        return std::to_string(static_cast<long long>(std::floor(t * 1000))) + "ms";
    auto secs = static_cast<long long>(std::floor(t));
    if (secs < 60)
        return std::to_string(secs) + "s";
    struct Unit {
        long long len;
        const char* name;
    };
    static constexpr Unit units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
    std::string out;
    int parts = 0;
    for (const auto& u : units) {
        if (parts == 2)
            break;
        long long q = secs / u.len;
        if (q == 0 && parts == 0)
            continue;
        if (q != 0)
            out += std::to_string(q) + u.name;
        secs -= q * u.len;
        ++parts;
    }
    return out;
}

} // namespace core::util

#include "util/timestamp.hpp"

#include <cmath>
#include <cstdio>

namespace core::util {

using namespace std::chrono;

Timestamp now() {
    return time_point_cast<microseconds>(Clock::now());
}

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
    if (pos + n > s.size())
        return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

} // namespace

std::optional<Timestamp> parse_rfc3339(std::string_view s) {
    int Y, M, D, h, m, sec;
    if (!digits(s, 0, 4, Y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, M) || s[7] != '-' ||
        !digits(s, 8, 2, D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, m) || s[16] != ':' ||
        !digits(s, 17, 2, sec))
        return std::nullopt;
    year_month_day ymd{year{Y}, month{static_cast<unsigned>(M)}, day{static_cast<unsigned>(D)}};
    if (!ymd.ok() || h > 23 || m > 59 || sec > 60)
        return std::nullopt;
    size_t i = 19;
    long long frac_us = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        size_t start = i;
        long long scale = 100000;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            frac_us += (s[i] - '0') * scale; // digits past microseconds are dropped
            scale /= 10;
            ++i;
        }
        if (i == start)
            return std::nullopt;
    }
    if (i >= s.size())
        return std::nullopt;
    long long offset_min = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
    } else if (s[i] == '+' || s[i] == '-') {
        int oh, om;
        if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
            !digits(s, i + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_min = (s[i] == '-' ? -1 : 1) * (oh * 60LL + om);
        i += 6;
    } else {
        return std::nullopt;
    }
    if (i != s.size())
        return std::nullopt;
    auto t = sys_days(ymd) + hours(h) + minutes(m) + seconds(sec) + microseconds(frac_us) -
             minutes(offset_min);
    return time_point_cast<microseconds>(t);
}

std::string format_rfc3339(Timestamp t) {
    auto day = floor<days>(t);
    year_month_day ymd{day};
    auto tod = t - day;
    auto h = duration_cast<hours>(tod);
    auto m = duration_cast<minutes>(tod - h);
    auto s = duration_cast<seconds>(tod - h - m);
    auto us = duration_cast<microseconds>(tod - h - m - s);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(h.count()), int(m.count()),
                  int(s.count()), static_cast<long long>(us.count()));
    return buf;
}

bool is_go_zero_time(Timestamp t) {
    return t <= time_point_cast<microseconds>(sys_days(year{1} / 1 / 2));
}

namespace {

// Ollama's humanDuration: whole units, minutes truncated, hours rounded.
std::string human_duration(double seconds) {
    auto plural = [](long long n, const char* unit) {
        return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
    };
    if (seconds < 1)
        return "Less than a second";
    auto secs = static_cast<long long>(seconds);
    if (secs < 60)
        return plural(secs, "second");
    long long minutes = secs / 60;
    if (minutes == 1)
        return "About a minute";
    if (minutes < 60)
        return plural(minutes, "minute");
    auto hours = static_cast<long long>(std::llround(seconds / 3600));
    if (hours == 1)
        return "About an hour";
    if (hours < 48)
        return plural(hours, "hour");
    if (hours < 24 * 7 * 2)
        return plural(hours / 24, "day");
    if (hours < 24 * 30 * 2)
        return plural(hours / 24 / 7, "week");
    if (hours < 24 * 365 * 2)
        return plural(hours / 24 / 30, "month");
    return plural(hours / 24 / 365, "year");
}

} // namespace

std::string human_time(Timestamp t, Timestamp now) {
    double delta = std::chrono::duration<double>(now - t).count();
    if (delta < -20.0 * 365 * 86400)
        return "Forever";
    if (delta < 0)
        return human_duration(-delta) + " from now";
    return human_duration(delta) + " ago";
}

} // namespace core::util

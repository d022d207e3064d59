#include "util/timestamp.hpp"

#include <doctest/doctest.h>

using namespace core::util;
using namespace std::chrono;

TEST_CASE("RFC 3339 with nanoseconds and offsets") {
    auto a = parse_rfc3339("2024-06-04T14:38:31.83753-07:00");
    REQUIRE(a);
    CHECK(format_rfc3339(*a) == "2024-06-04T21:38:31.837530Z");
    auto b = parse_rfc3339("2023-08-04T19:22:45.499127Z");
    REQUIRE(b);
    CHECK(format_rfc3339(*b) == "2023-08-04T19:22:45.499127Z");
    auto c = parse_rfc3339("2025-05-10T08:06:48.639712648-07:00");
    REQUIRE(c);
    CHECK(format_rfc3339(*c) == "2025-05-10T15:06:48.639712Z");
    CHECK(parse_rfc3339("2024-01-01T00:00:00+05:30") == parse_rfc3339("2023-12-31T18:30:00Z"));
    CHECK(parse_rfc3339("2024-01-01t00:00:00z"));
}

TEST_CASE("far-future and zero times survive") {
    // Ollama's "forever": now + MaxInt64 ns, about 292 years ahead.
    auto f = parse_rfc3339("2318-09-20T10:44:41.123456789+02:00");
    REQUIRE(f);
    CHECK(format_rfc3339(*f) == "2318-09-20T08:44:41.123456Z");
    auto z = parse_rfc3339("0001-01-01T00:00:00Z");
    REQUIRE(z);
    CHECK(is_go_zero_time(*z));
    CHECK_FALSE(is_go_zero_time(*f));
}

TEST_CASE("malformed times are refused") {
    CHECK_FALSE(parse_rfc3339(""));
    CHECK_FALSE(parse_rfc3339("2024-06-04"));
    CHECK_FALSE(parse_rfc3339("2024-06-04T14:38:31"));      // no zone
    CHECK_FALSE(parse_rfc3339("2024-13-04T14:38:31Z"));     // month
    CHECK_FALSE(parse_rfc3339("2024-02-30T14:38:31Z"));     // day
    CHECK_FALSE(parse_rfc3339("2024-06-04T14:38:31.Z"));    // empty fraction
    CHECK_FALSE(parse_rfc3339("2024-06-04T14:38:31+0700")); // offset without colon
    CHECK_FALSE(parse_rfc3339("2024-06-04T14:38:31Zjunk"));
}

TEST_CASE("format and parse round-trip") {
    auto t = now();
    CHECK(parse_rfc3339(format_rfc3339(t)) == t);
}

TEST_CASE("human_time: as Ollama prints MODIFIED and UNTIL") {
    using core::util::human_time;
    auto now = core::util::now();
    using namespace std::chrono;
    CHECK(human_time(now, now) == "Less than a second ago");
    CHECK(human_time(now - seconds(1), now) == "1 second ago");
    CHECK(human_time(now - seconds(42), now) == "42 seconds ago");
    CHECK(human_time(now - seconds(90), now) == "About a minute ago");
    CHECK(human_time(now + minutes(4) + seconds(30), now) == "4 minutes from now");
    CHECK(human_time(now - minutes(59), now) == "59 minutes ago");
    CHECK(human_time(now - minutes(70), now) == "About an hour ago");
    CHECK(human_time(now - hours(30), now) == "30 hours ago");
    CHECK(human_time(now - hours(24 * 5), now) == "5 days ago");
    CHECK(human_time(now - hours(24 * 20), now) == "2 weeks ago");
    CHECK(human_time(now - hours(24 * 30 * 18), now) == "18 months ago");
    CHECK(human_time(now - hours(24 * 365 * 3), now) == "3 years ago");
    CHECK(human_time(now + hours(24 * 365 * 21), now) == "Forever");
}

#include "util/duration.hpp"

#include <doctest/doctest.h>

using namespace core::util;
using std::chrono::nanoseconds;

TEST_CASE("Go durations parse as time.ParseDuration does") {
    CHECK(parse_go_duration("0") == nanoseconds(0));
    CHECK(parse_go_duration("5m") == std::chrono::minutes(5));
    CHECK(parse_go_duration("1h2m3s") == std::chrono::seconds(3723));
    CHECK(parse_go_duration("1.5h") == std::chrono::minutes(90));
    CHECK(parse_go_duration("300ms") == std::chrono::milliseconds(300));
    CHECK(parse_go_duration("2us") == std::chrono::microseconds(2));
    CHECK(parse_go_duration("2\xC2\xB5s") == std::chrono::microseconds(2));
    CHECK(parse_go_duration("-1s") == std::chrono::seconds(-1));
    CHECK(parse_go_duration(".5s") == std::chrono::milliseconds(500));
    // Refused as Go refuses them: Ollama answers 400 to a unitless string.
    CHECK_FALSE(parse_go_duration("300"));
    CHECK_FALSE(parse_go_duration(""));
    CHECK_FALSE(parse_go_duration("1d"));
    CHECK_FALSE(parse_go_duration("m"));
    CHECK_FALSE(parse_go_duration("1 m"));
    CHECK_FALSE(parse_go_duration("3000000h"));
}

TEST_CASE("user durations") {
    CHECK(parse_duration("30m")->count() == doctest::Approx(1800));
    CHECK(parse_duration("90")->count() == doctest::Approx(90));
    CHECK(parse_duration("1.5")->count() == doctest::Approx(1.5));
    CHECK(parse_duration("2d")->count() == doctest::Approx(172800));
    CHECK(parse_duration(" 250ms ")->count() == doctest::Approx(0.25));
    CHECK_FALSE(parse_duration("-5m"));
    CHECK_FALSE(parse_duration("+-2s")); // a sign after the sign (fuzz_text)
    CHECK_FALSE(parse_duration("++2s"));
    CHECK_FALSE(parse_duration("+"));
    CHECK(parse_duration("+2s")->count() == doctest::Approx(2));
    CHECK_FALSE(parse_duration("abc"));
    CHECK_FALSE(parse_duration(""));
    CHECK_FALSE(parse_duration("5 minutes"));
}

TEST_CASE("keep-alive values") {
    CHECK(parse_keep_alive("forever")->forever);
    CHECK(parse_keep_alive("-1")->forever);
    CHECK(parse_keep_alive("-1m")->forever);
    CHECK(parse_keep_alive("-1")->json_seconds() == -1);
    auto k = parse_keep_alive("10m");
    REQUIRE(k);
    CHECK_FALSE(k->forever);
    CHECK(k->json_seconds() == doctest::Approx(600));
    CHECK(parse_keep_alive("0")->json_seconds() == 0);
    CHECK_FALSE(parse_keep_alive("-x"));
    CHECK_FALSE(parse_keep_alive("soon"));
}

TEST_CASE("durations print back in a form that parses") {
    CHECK(format_duration(Seconds(0.25)) == "250ms");
    CHECK(format_duration(Seconds(42)) == "42s");
    CHECK(format_duration(Seconds(240)) == "4m");
    CHECK(format_duration(Seconds(5400)) == "1h30m");
    CHECK(format_duration(Seconds(3723)) == "1h2m");
    CHECK(format_duration(Seconds(90000)) == "1d1h");
    CHECK(format_duration(Seconds(86400)) == "1d");
    for (double s : {1.0, 59.0, 61.0, 3600.0, 7200.0, 5400.0})
        CHECK(parse_duration(format_duration(Seconds(s)))->count() == doctest::Approx(s));
}

TEST_CASE("durations past 100 years are refused, not overflowed") {
    using core::util::parse_duration;
    CHECK(parse_duration("36500d"));
    CHECK_FALSE(parse_duration("36501d"));
    CHECK_FALSE(parse_duration("106751991168d"));
    CHECK_FALSE(parse_duration("1e300"));
    CHECK_FALSE(parse_duration("9223372036854775807s"));
    CHECK_FALSE(core::util::parse_go_duration("9223372036.854775807s"));
    CHECK_FALSE(core::util::parse_keep_alive("106751991168d"));
    CHECK(core::util::format_duration(core::util::Seconds(1e300)) == "36500d");
}

TEST_CASE("a number too large for a double is not a duration, not an exception") {
    std::string huge = "06ms20ms0ms" + std::string(400, '9') + "s";
    CHECK_FALSE(core::util::parse_duration(huge));
    CHECK_FALSE(core::util::parse_duration(std::string(400, '9')));
    CHECK_FALSE(core::util::parse_keep_alive("-" + std::string(400, '9') + "s"));
}

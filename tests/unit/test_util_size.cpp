#include "util/size.hpp"

#include <doctest/doctest.h>

using namespace core::util;

TEST_CASE("sizes parse in decimal and binary units") {
    CHECK(parse_size("24GB") == 24'000'000'000ULL);
    CHECK(parse_size("24 gb") == 24'000'000'000ULL);
    CHECK(parse_size("1.5G") == 1'500'000'000ULL);
    CHECK(parse_size("512MiB") == 512ULL * 1024 * 1024);
    CHECK(parse_size("2GiB") == 2ULL * 1024 * 1024 * 1024);
    CHECK(parse_size("4096") == 4096ULL);
    CHECK(parse_size("10KB") == 10'000ULL);
    CHECK(parse_size("1TB") == 1'000'000'000'000ULL);
    CHECK_FALSE(parse_size("-1GB"));
    CHECK_FALSE(parse_size("GB"));
    CHECK_FALSE(parse_size("12XB"));
    CHECK_FALSE(parse_size("1.2.3GB"));
    CHECK_FALSE(parse_size(""));
    CHECK_FALSE(parse_size("99999999999TB"));
}

TEST_CASE("sizes print as Ollama's format.HumanBytes") {
    CHECK(format_size(5137025024ULL) == "5.1 GB");
    CHECK(format_size(48'000'000'000ULL) == "48 GB");
    CHECK(format_size(2'000'000'000ULL) == "2 GB");
    CHECK(format_size(512'000'000ULL) == "512 MB");
    CHECK(format_size(900) == "900 B");
    CHECK(format_size(1'500) == "1.5 KB");
}

TEST_CASE("printed sizes read back within their rounding") {
    for (uint64_t b : {4'683'075'271ULL, 2'019'393'189ULL, 700'000ULL}) {
        auto back = parse_size(format_size(b));
        REQUIRE(back);
        CHECK(static_cast<double>(*back) == doctest::Approx(static_cast<double>(b)).epsilon(0.05));
    }
}

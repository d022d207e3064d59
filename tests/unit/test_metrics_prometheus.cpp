// The Prometheus text format writer against the format's rules.
#include "metrics/prometheus.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

using namespace core::metrics;

TEST_CASE("families are written with HELP and TYPE once, samples together") {
    Exposition e;
    e.family("modelctl_models_loaded", "gauge", "Models in memory.");
    e.sample({{"server", "http://127.0.0.1:11434"}}, 2);
    e.family("modelctl_model_uses_total", "counter", "Uses recorded.");
    e.sample({{"model", "a"}}, 3);
    e.family("modelctl_models_loaded", "gauge", "Models in memory.");
    e.sample({{"server", "http://other:11434"}}, 0);
    e.family("modelctl_empty", "gauge", "No samples: left out.");
    CHECK(e.text() == "# HELP modelctl_models_loaded Models in memory.\n"
                      "# TYPE modelctl_models_loaded gauge\n"
                      "modelctl_models_loaded{server=\"http://127.0.0.1:11434\"} 2\n"
                      "modelctl_models_loaded{server=\"http://other:11434\"} 0\n"
                      "# HELP modelctl_model_uses_total Uses recorded.\n"
                      "# TYPE modelctl_model_uses_total counter\n"
                      "modelctl_model_uses_total{model=\"a\"} 3\n");
}

TEST_CASE("values use Go's float syntax") {
    CHECK(format_value(0) == "0");
    CHECK(format_value(2000000000) == "2000000000");
    CHECK(format_value(-3) == "-3");
    CHECK(format_value(0.25) == "0.25");
    CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
    CHECK(format_value(std::nan("")) == "NaN");
    CHECK(std::stod(format_value(1.0 / 3)) == 1.0 / 3); // round-trips
    CHECK(format_value(0.000534022) == "0.000534022");  // the shortest that reads back
    CHECK(format_value(1e300) == "1e+300");
    CHECK(format_value(1795422762.9189861) == "1795422762.918986");
}

TEST_CASE("label values and help text are escaped") {
    CHECK(escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
    Exposition e;
    e.family("m", "gauge", "line one\nback\\slash \"quotes\" stay");
    e.sample({{"model", "x\"y"}}, 1);
    CHECK(e.text() == "# HELP m line one\\nback\\\\slash \"quotes\" stay\n"
                      "# TYPE m gauge\n"
                      "m{model=\"x\\\"y\"} 1\n");
}

TEST_CASE("a histogram's samples carry its suffixes, and only a histogram's do") {
    Exposition e;
    e.family("h_seconds", "histogram", "a histogram");
    e.sample({{"le", "1"}}, 2, "_bucket");
    e.sample({{"le", "+Inf"}}, 3, "_bucket");
    e.sample({}, 4.5, "_sum");
    e.sample({}, 3, "_count");
    CHECK_THROWS_AS(e.sample({}, 1), std::invalid_argument);
    CHECK(e.text() == "# HELP h_seconds a histogram\n"
                      "# TYPE h_seconds histogram\n"
                      "h_seconds_bucket{le=\"1\"} 2\n"
                      "h_seconds_bucket{le=\"+Inf\"} 3\n"
                      "h_seconds_sum 4.5\n"
                      "h_seconds_count 3\n");
    e.family("g", "gauge", "");
    CHECK_THROWS_AS(e.sample({}, 1, "_bucket"), std::invalid_argument);
}

TEST_CASE("names that break the format are refused") {
    Exposition e;
    CHECK_THROWS_AS(e.family("9lives", "gauge", ""), std::invalid_argument);
    CHECK_THROWS_AS(e.family("with-dash", "gauge", ""), std::invalid_argument);
    CHECK_THROWS_AS(e.family("ok", "summary", ""), std::invalid_argument);
    CHECK_THROWS_AS(e.sample({}, 1), std::logic_error);
    e.family("ns:ok_1", "gauge", "");
    CHECK_THROWS_AS(e.sample({{"a:b", "x"}}, 1), std::invalid_argument);
    CHECK_THROWS_AS(e.sample({{"__reserved", "x"}}, 1), std::invalid_argument);
    CHECK_THROWS_AS(e.family("ns:ok_1", "counter", ""), std::invalid_argument);
    e.sample({{"model", "a b"}}, 1);
    CHECK_THROWS_AS(e.sample({{"model", "a b"}}, 2), std::invalid_argument); // duplicate series
    e.sample({{"model", "a"}}, 2);
    CHECK(e.text().find("ns:ok_1{model=\"a b\"} 1\nns:ok_1{model=\"a\"} 2\n") != std::string::npos);
}

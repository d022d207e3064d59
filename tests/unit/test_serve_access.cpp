#include "serve/access.hpp"

#include <doctest/doctest.h>

using namespace core::serve;

TEST_CASE("origins allowed as Ollama allows them") {
    Origins o("https://app.example, http://*.corp.example");
    CHECK(o.allowed("http://localhost"));
    CHECK(o.allowed("http://localhost:5173"));
    CHECK(o.allowed("https://127.0.0.1:8443"));
    CHECK(o.allowed("HTTP://LOCALHOST:3000"));
    CHECK(o.allowed("vscode-webview://8f2c"));
    CHECK(o.allowed("chrome-extension://abcdef"));
    CHECK(o.allowed("https://app.example"));
    CHECK(o.allowed("http://wiki.corp.example"));
    CHECK_FALSE(o.allowed("https://app.example.evil"));
    CHECK_FALSE(o.allowed("http://localhost.evil.example"));
    CHECK_FALSE(o.allowed("http://corp.example.evil"));
    CHECK_FALSE(o.allowed("null"));
    CHECK(Origins("*").allowed("https://anything.example"));
    CHECK(Origins("*").answer_fields("https://x")[0].value == "*");
    CHECK(Origins().answer_fields("http://localhost")[0].value == "http://localhost");
}

TEST_CASE("a bearer token must match exactly") {
    std::string good = "Bearer s3cret";
    std::string bad = "Bearer s3cre";
    std::string longer = "Bearer s3cretX";
    std::string basic = "Basic s3cret";
    CHECK(bearer_matches(&good, "s3cret"));
    CHECK_FALSE(bearer_matches(&bad, "s3cret"));
    CHECK_FALSE(bearer_matches(&longer, "s3cret"));
    CHECK_FALSE(bearer_matches(&basic, "s3cret"));
    CHECK_FALSE(bearer_matches(nullptr, "s3cret"));
    CHECK_FALSE(bearer_matches(&good, ""));
}

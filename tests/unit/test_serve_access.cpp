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

TEST_CASE("host_allowed: Ollama's rule against DNS rebinding") {
    using core::serve::host_allowed;
    for (const char* ok :
         {"127.0.0.1:11434", "127.9.9.9", "localhost", "LocalHost:8080", "[::1]:11434", "::1",
          "0.0.0.0", "10.1.2.3", "172.16.0.1", "172.31.255.255:1", "192.168.1.5:11435", "fd00::1",
          "[fc00::2]:80", "gpu-box", "GPU-BOX:1", "app.localhost", "printer.local:631",
          "svc.internal", ""})
        CHECK_MESSAGE(host_allowed(ok, "gpu-box"), ok);
    for (const char* no :
         {"evil.example", "evil.example:11434", "8.8.8.8", "172.32.0.1", "192.169.0.1",
          "[2001:db8::1]:80", "localhost.evil.example", "local", "gpu-box.lan", "x.local.evil"})
        CHECK_MESSAGE(!host_allowed(no, "gpu-box"), no);
}

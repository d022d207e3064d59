#include "provider/ollama_host.hpp"

#include <doctest/doctest.h>

using core::provider::connectable;
using core::provider::parse_ollama_host;

namespace {
std::string host(const char* value) {
    return parse_ollama_host(value).url();
}
} // namespace

TEST_CASE("OLLAMA_HOST: every case of Ollama's envconfig TestHost table") {
    // envconfig/config_test.go, TestHost, value -> expected Host().String().
    CHECK(host("") == "http://127.0.0.1:11434");
    CHECK(host("1.2.3.4") == "http://1.2.3.4:11434");
    CHECK(host(":1234") == "http://:1234");
    CHECK(host("1.2.3.4:1234") == "http://1.2.3.4:1234");
    CHECK(host("example.com") == "http://example.com:11434");
    CHECK(host("example.com:1234") == "http://example.com:1234");
    CHECK(host(":0") == "http://:0");
    CHECK(host(":66000") == "http://:11434");
    CHECK(host(":-1") == "http://:11434");
    CHECK(host("[::1]") == "http://[::1]:11434");
    CHECK(host("[::]") == "http://[::]:11434");
    CHECK(host("::1") == "http://[::1]:11434");
    CHECK(host("[::1]:1337") == "http://[::1]:1337");
    CHECK(host(" 1.2.3.4 ") == "http://1.2.3.4:11434");
    CHECK(host("\"1.2.3.4\"") == "http://1.2.3.4:11434");
    CHECK(host(" \" 1.2.3.4 \" ") == "http://1.2.3.4:11434");
    CHECK(host("'1.2.3.4'") == "http://1.2.3.4:11434");
    CHECK(host("http://1.2.3.4") == "http://1.2.3.4:80");
    CHECK(host("http://1.2.3.4:4321") == "http://1.2.3.4:4321");
    CHECK(host("https://1.2.3.4") == "https://1.2.3.4:443");
    CHECK(host("https://1.2.3.4:4321") == "https://1.2.3.4:4321");
    CHECK(host("https://example.com/ollama") == "https://example.com:443/ollama");
}

TEST_CASE("OLLAMA_HOST: further forms Ollama accepts") {
    CHECK(host("ollama.com") == "https://ollama.com:443");
    CHECK(host("http://1.2.3.4:66000") == "http://1.2.3.4:80"); // bad port -> scheme default
    CHECK(host("1.2.3.4:port") == "http://1.2.3.4:11434");
    CHECK(host("http://example.com/") == "http://example.com:80");
    CHECK(host("0:0:0:0:0:0:0:1") == "http://[::1]:11434"); // canonical form, like net.IP.String
    auto ep = parse_ollama_host("https://example.com:8443/a/b");
    CHECK(ep.scheme == "https");
    CHECK(ep.host == "example.com");
    CHECK(ep.port == 8443);
    CHECK(ep.base_path == "/a/b");
}

TEST_CASE("bind-all addresses mean loopback for a client") {
    CHECK(connectable(parse_ollama_host("0.0.0.0")).url() == "http://127.0.0.1:11434");
    CHECK(connectable(parse_ollama_host("0.0.0.0:8080")).url() == "http://127.0.0.1:8080");
    CHECK(connectable(parse_ollama_host("[::]")).url() == "http://[::1]:11434");
    CHECK(connectable(parse_ollama_host(":1234")).url() == "http://127.0.0.1:1234");
    CHECK(connectable(parse_ollama_host("10.1.2.3")).url() == "http://10.1.2.3:11434");
}

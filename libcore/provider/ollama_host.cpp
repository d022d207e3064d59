#include "provider/ollama_host.hpp"

#include <arpa/inet.h>
#include <string>

namespace core::provider {

namespace {

std::string_view trim_chars(std::string_view s, std::string_view chars) {
    while (!s.empty() && chars.find(s.front()) != std::string_view::npos)
        s.remove_prefix(1);
    while (!s.empty() && chars.find(s.back()) != std::string_view::npos)
        s.remove_suffix(1);
    return s;
}

// Go's net.ParseIP followed by String(): returns the canonical text, or "".
std::string canonical_ip(const std::string& text) {
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, text.c_str(), buf) == 1)
        return inet_ntop(AF_INET, buf, out, sizeof out) ? out : "";
    if (inet_pton(AF_INET6, text.c_str(), buf) == 1)
        return inet_ntop(AF_INET6, buf, out, sizeof out) ? out : "";
    return "";
}

// Go's net.SplitHostPort: "host:port" or "[v6]:port"; fails on a missing port
// or on several colons outside brackets.
bool split_host_port(std::string_view hp, std::string& host, std::string& port) {
    if (!hp.empty() && hp.front() == '[') {
        auto close = hp.find(']');
        if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':')
            return false;
        host = std::string(hp.substr(1, close - 1));
        port = std::string(hp.substr(close + 2));
        return port.find_first_of("[]") == std::string::npos;
    }
    auto colon = hp.rfind(':');
    if (colon == std::string_view::npos || hp.find(':') != colon)
        return false;
    host = std::string(hp.substr(0, colon));
    port = std::string(hp.substr(colon + 1));
    return host.find_first_of("[]") == std::string::npos;
}

// Go's strconv.ParseInt(port, 10, 32) followed by the 0..65535 range check.
bool valid_port(const std::string& p, int& out) {
    if (p.empty() || p.size() > 11)
        return false;
    size_t i = (p[0] == '+' || p[0] == '-') ? 1 : 0;
    if (i == p.size())
        return false;
    long long v = 0;
    for (; i < p.size(); ++i) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    if (p[0] == '-')
        v = -v;
    if (v < 0 || v > 65535)
        return false;
    out = static_cast<int>(v);
    return true;
}

} // namespace

http::Endpoint parse_ollama_host(std::string_view value) {
    // envconfig.Var trims spaces then quotes; Host() trims spaces once more.
    std::string_view s = trim_chars(trim_chars(trim_chars(value, " \t\r\n"), "\"'"), " \t\r\n");

    std::string scheme = "http";
    std::string default_port = "11434";
    std::string_view hostport = s;
    if (auto sep = s.find("://"); sep != std::string_view::npos) {
        scheme = std::string(s.substr(0, sep));
        hostport = s.substr(sep + 3);
        if (scheme == "http")
            default_port = "80";
        else if (scheme == "https")
            default_port = "443";
    } else if (s == "ollama.com") {
        // Newer Ollama releases map the bare name of the cloud service to https.
        scheme = "https";
        hostport = "ollama.com:443";
    }

    std::string path;
    if (auto slash = hostport.find('/'); slash != std::string_view::npos) {
        path = std::string(hostport.substr(slash + 1));
        hostport = hostport.substr(0, slash);
    }

    std::string host, port;
    if (!split_host_port(hostport, host, port)) {
        host = "127.0.0.1";
        port = default_port;
        std::string bare(trim_chars(hostport, "[]"));
        if (auto ip = canonical_ip(bare); !ip.empty())
            host = ip;
        else if (!hostport.empty())
            host = std::string(hostport);
    }

    int port_num = 0;
    if (!valid_port(port, port_num))
        valid_port(default_port, port_num);

    http::Endpoint ep;
    ep.scheme = scheme;
    ep.host = host;
    ep.port = port_num;
    while (!path.empty() && path.back() == '/')
        path.pop_back();
    ep.base_path = path.empty() ? "" : "/" + path;
    return ep;
}

http::Endpoint connectable(http::Endpoint ep) {
    if (ep.host.empty() || ep.host == "0.0.0.0")
        ep.host = "127.0.0.1";
    else if (ep.host == "::")
        ep.host = "::1";
    return ep;
}

} // namespace core::provider

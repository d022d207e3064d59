#include "serve/access.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>

namespace core::serve {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// gin-contrib/cors with AllowWildcard: one '*' matches any run of characters.
bool matches(const std::string& pattern, const std::string& origin) {
    size_t star = pattern.find('*');
    if (star == std::string::npos)
        return pattern == origin;
    std::string_view prefix = std::string_view(pattern).substr(0, star);
    std::string_view suffix = std::string_view(pattern).substr(star + 1);
    return origin.size() >= prefix.size() + suffix.size() && origin.starts_with(prefix) &&
           origin.ends_with(suffix);
}

} // namespace

Origins::Origins(std::string_view ollama_origins) {
    while (!ollama_origins.empty()) {
        size_t comma = ollama_origins.find(',');
        auto item = util::trim_blanks(ollama_origins.substr(0, comma));
        if (item == "*")
            all_ = true;
        else if (!item.empty())
            patterns_.push_back(lower(item));
        if (comma == std::string_view::npos)
            break;
        ollama_origins.remove_prefix(comma + 1);
    }
    for (const char* host : {"localhost", "127.0.0.1", "0.0.0.0"})
        for (const char* scheme : {"http://", "https://"}) {
            patterns_.push_back(std::string(scheme) + host);
            patterns_.push_back(std::string(scheme) + host + ":*");
        }
    for (const char* p : {"app://*", "file://*", "tauri://*", "vscode-webview://*",
                          "vscode-file://*", "chrome-extension://*", "moz-extension://*",
                          "safari-extension://*", "ms-browser-extension://*"})
        patterns_.push_back(p);
}

bool Origins::allowed(std::string_view origin) const {
    if (all_)
        return true;
    std::string o = lower(origin);
    for (const auto& p : patterns_)
        if (matches(p, o))
            return true;
    return false;
}

http::Fields Origins::answer_fields(std::string_view origin) const {
    return {{"Access-Control-Allow-Origin", all_ ? "*" : std::string(origin)}, {"Vary", "Origin"}};
}

http::Fields Origins::preflight_fields(std::string_view origin) const {
    http::Fields f = answer_fields(origin);
    // Ollama's server/routes.go: its own headers and the OpenAI SDK's.
    f.push_back({"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"});
    f.push_back({"Access-Control-Allow-Headers",
                 "Authorization, Content-Type, User-Agent, Accept, X-Requested-With, "
                 "OpenAI-Beta, x-stainless-arch, x-stainless-async, "
                 "x-stainless-custom-poll-interval, x-stainless-helper-method, "
                 "x-stainless-lang, x-stainless-os, x-stainless-package-version, "
                 "x-stainless-poll-helper, x-stainless-retry-count, x-stainless-runtime, "
                 "x-stainless-runtime-version, x-stainless-timeout, X-Modelctl-Task"});
    f.push_back({"Access-Control-Max-Age", "43200"});
    return f;
}

bool bearer_matches(const std::string* authorization, const std::string& token) {
    if (!authorization || token.empty())
        return false;
    std::string want = "Bearer " + token;
    const std::string& got = *authorization;
    unsigned char diff = got.size() == want.size() ? 0 : 1;
    for (size_t i = 0; i < want.size(); ++i)
        diff |= static_cast<unsigned char>(want[i] ^ (i < got.size() ? got[i] : 0));
    return diff == 0;
}

bool host_allowed(std::string_view host, std::string_view machine) {
    // Go's net.SplitHostPort when it succeeds, else the whole value.
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        if (close != std::string_view::npos && (close + 1 == host.size() || host[close + 1] == ':'))
            host = host.substr(1, close - 1);
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
        host = host.substr(0, host.find(':'));
    }
    std::string h(host);
    unsigned char a[16];
    if (inet_pton(AF_INET, h.c_str(), a) == 1) // loopback, private, unspecified
        return a[0] == 127 || a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
               (a[0] == 192 && a[1] == 168) || (a[0] | a[1] | a[2] | a[3]) == 0;
    if (inet_pton(AF_INET6, h.c_str(), a) == 1) { // ::1, ::, fc00::/7
        bool zeros = std::all_of(a, a + 15, [](unsigned char c) { return c == 0; });
        return (zeros && a[15] <= 1) || (a[0] & 0xfe) == 0xfc;
    }
    auto lower = [](std::string_view v) {
        std::string out(v);
        for (auto& c : out)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return out;
    };
    h = lower(h);
    if (h.empty() || h == "localhost" || h == lower(machine))
        return true;
    for (std::string_view tld : {".localhost", ".local", ".internal"})
        if (h.size() > tld.size() && h.compare(h.size() - tld.size(), tld.size(), tld) == 0)
            return true;
    return false;
}

} // namespace core::serve

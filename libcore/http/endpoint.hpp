#pragma once
// Where a server lives: scheme, host, port and an optional path prefix (for a
// server behind a reverse proxy, e.g. https://example.com/ollama).

#include <string>
#include <string_view>

namespace core::http {

struct Endpoint {
    std::string scheme = "http";
    std::string host = "127.0.0.1"; // IPv6 without brackets
    int port = 11434;
    std::string base_path; // "" or "/prefix" (no trailing slash)

    // "http://127.0.0.1:11434", "http://[::1]:11434", "https://example.com:443/ollama".
    std::string url() const;
    // "127.0.0.1:11434" or "[::1]:11434".
    std::string host_port() const;
};

// Whether `host` (a name or an address, IPv6 without brackets) is this
// machine's loopback: localhost, ::1 or 127.0.0.0/8.
bool is_loopback(std::string_view host);

} // namespace core::http

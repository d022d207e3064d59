#pragma once
// OLLAMA_HOST, read exactly as Ollama reads it (envconfig.Host), plus the
// client-side step of Ollama's own CLI: a bind-all address (0.0.0.0, ::, or an
// empty host as in ":1234") means "this machine", so connect to loopback.

#include "http/endpoint.hpp"

#include <string_view>

namespace core::provider {

// Ollama's envconfig.Host(): trims spaces and quotes; the scheme defaults to
// http; the default port is 11434 without a scheme, 80 for http://, 443 for
// https://; a bare IPv6 address is accepted; an invalid port falls back to
// the default; a path after the host is kept (for a proxy).
http::Endpoint parse_ollama_host(std::string_view value);

// The endpoint a client should connect to: unspecified addresses become
// loopback (0.0.0.0 and "" -> 127.0.0.1, :: -> ::1).
http::Endpoint connectable(http::Endpoint endpoint);

} // namespace core::provider

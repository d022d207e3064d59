#pragma once
// Who may use `modelctl serve`: browsers by their Origin (CORS, as Ollama
// decides it: envconfig.AllowedOrigins and gin-contrib/cors), and, where a
// token is set, only clients that send it (Authorization: Bearer).
//
// Origins allowed: those in OLLAMA_ORIGINS (comma-separated; "*" allows
// all; one "*" in an entry matches any run of characters), then
// http(s)://localhost, 127.0.0.1 and 0.0.0.0 on any port, app://*, file://*,
// tauri://*, vscode-webview://*, vscode-file://*, and browser extensions
// (chrome-extension://, moz-extension://, safari-extension://,
// ms-browser-extension://). A request whose Origin is not allowed is answered
// 403; an allowed one gets Access-Control-Allow-Origin with every answer,
// and a preflight (OPTIONS with Access-Control-Request-Method) is answered
// 204 by serve itself.

#include "http/wire.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace core::serve {

class Origins {
public:
    // From OLLAMA_ORIGINS' value ("" when unset).
    explicit Origins(std::string_view ollama_origins = {});
    bool allowed(std::string_view origin) const;
    // The fields of an answer to an allowed origin; of a preflight too.
    http::Fields answer_fields(std::string_view origin) const;
    http::Fields preflight_fields(std::string_view origin) const;

private:
    std::vector<std::string> patterns_;
    bool all_ = false;
};

// Ollama's rule for the Host of a request to a server listening on loopback,
// its guard against DNS rebinding (server/routes.go, allowedHostsMiddleware):
// an IP literal that is loopback, private or unspecified; or localhost, the
// machine's own name (`machine`), or a name under .localhost, .local or
// .internal; any case. `host` is the Host field, with or without a port. serve
// on loopback applies it as Ollama does, so standing in front of Ollama opens
// no hole that Ollama closed.
bool host_allowed(std::string_view host, std::string_view machine);

// Whether `authorization` is "Bearer <token>", compared in constant time.
bool bearer_matches(const std::string* authorization, const std::string& token);

} // namespace core::serve

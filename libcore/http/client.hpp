#pragma once
// A small blocking HTTP/1.1 client for JSON APIs (cpp-httplib underneath,
// loaded on first use: see transport.hpp).
//
// Transport failures (refused, unreachable, timeouts, TLS) throw core::Error
// of kind Unreachable naming the address tried. HTTP error statuses are
// returned, not thrown: what they mean depends on the API (see
// provider/ollama_errors.hpp).

#include "http/endpoint.hpp"
#include "http/transport.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace core::http {

struct Timeouts {
    std::chrono::milliseconds connect{5000};
    std::chrono::milliseconds read{300000}; // a cold load of a 70B model takes minutes
};

struct Response {
    int status = 0;
    std::string body; // empty when streamed to a callback
};

class Client {
public:
    // Throws Error{Usage} for an address the transport cannot use, and
    // Error{Failed} when the transport module cannot be loaded. A non-empty
    // bearer_token goes out as "Authorization: Bearer ..." with every request
    // (and nowhere else: no message names it). unreachable_hint is the hint
    // of the Unreachable error.
    Client(Endpoint endpoint, Timeouts timeouts, const std::string& bearer_token = {},
           std::string unreachable_hint =
               "is the server running? Set the address with --host or OLLAMA_HOST");
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    const Endpoint& endpoint() const { return endpoint_; }

    Response get(const std::string& path);
    Response post_json(const std::string& path, const std::string& body);
    Response delete_json(const std::string& path, const std::string& body);

    // POSTs and hands the body to on_chunk as it arrives when the status is
    // 2xx; returning false from on_chunk stops the transfer. Error statuses
    // come back with their body collected instead. A transfer stopped by
    // on_chunk returns normally.
    Response post_json_stream(const std::string& path, const std::string& body,
                              const std::function<bool(std::string_view)>& on_chunk);

private:
    Endpoint endpoint_;
    Timeouts timeouts_;
    std::string unreachable_hint_;
    std::unique_ptr<Transport> transport_;
};

} // namespace core::http

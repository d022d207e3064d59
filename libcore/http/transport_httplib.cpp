// modelctl-http.so: http::Transport over cpp-httplib (see transport.hpp).

#include "http/transport.hpp"

#include <httplib.h>

#include <memory>

namespace {

using core::http::Failure;
using core::http::TransportResult;

Failure failure_of(httplib::Error e) {
    switch (e) {
    case httplib::Error::Connection:
        return Failure::Connection;
    case httplib::Error::ConnectionTimeout:
        return Failure::ConnectTimeout;
    case httplib::Error::Read:
        return Failure::Read;
    case httplib::Error::Write:
        return Failure::Write;
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
        return Failure::Tls;
    case httplib::Error::Canceled:
        return Failure::Canceled;
    default:
        return Failure::Other;
    }
}

class HttplibTransport final : public core::http::Transport {
public:
    HttplibTransport(const std::string& base, int64_t connect_ms, const char* bearer)
        : client_(base) {
        if (bearer && *bearer)
            client_.set_bearer_token_auth(bearer);
        client_.set_connection_timeout(std::chrono::milliseconds(connect_ms));
        client_.set_write_timeout(std::chrono::milliseconds(connect_ms));
        client_.set_keep_alive(true);
        // Redirects are reported, never followed: a server that moved is
        // the user's to name (and a token must not follow it elsewhere).
        client_.set_follow_location(false);
        // A POST goes out as two writes (headers, then body): without this,
        // Nagle holds the body until the server's delayed ACK, 40 ms a request.
        client_.set_tcp_nodelay(true);
    }
    bool valid() const { return client_.is_valid(); }

    TransportResult send(const char* method, const std::string& path, const std::string& body,
                         std::chrono::milliseconds read_timeout,
                         const core::http::BodyReceiver& on_body) override {
        client_.set_read_timeout(read_timeout);
        httplib::Request req;
        req.method = method;
        req.path = path;
        if (!body.empty()) {
            req.body = body;
            req.set_header("Content-Type", "application/json");
        }
        TransportResult r;
        req.response_handler = [&](const httplib::Response& res) {
            r.status = res.status;
            r.location = res.get_header_value("Location");
            // A body-less answer still tells the receiver its status.
            return on_body(res.status, {});
        };
        req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
            return on_body(r.status, std::string_view(data, len));
        };
        auto res = client_.send(req);
        if (!res) {
            r.failure = failure_of(res.error());
            r.detail = httplib::to_string(res.error());
            return r;
        }
        r.status = res->status;
        return r;
    }

    void cancel() override { client_.stop(); }

private:
    httplib::Client client_;
};

} // namespace

extern "C" __attribute__((visibility("default"))) core::http::Transport*
modelctl_http_transport_v4(const char* base, int64_t connect_ms, const char* bearer) {
    auto t = std::make_unique<HttplibTransport>(base, connect_ms, bearer);
    return t->valid() ? t.release() : nullptr;
}

// modelctl-http.so: http::Transport over cpp-httplib (see transport.hpp).

#include "http/transport.hpp"

#include <httplib.h>

#include <memory>

namespace {

using core::http::Failure;
using core::http::TransportResult;

TransportResult failed(httplib::Error e) {
    TransportResult r;
    r.detail = httplib::to_string(e);
    switch (e) {
    case httplib::Error::Connection:
        r.failure = Failure::Connection;
        break;
    case httplib::Error::ConnectionTimeout:
        r.failure = Failure::ConnectTimeout;
        break;
    case httplib::Error::Read:
        r.failure = Failure::Read;
        break;
    case httplib::Error::Write:
        r.failure = Failure::Write;
        break;
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
        r.failure = Failure::Tls;
        break;
    case httplib::Error::Canceled:
        r.failure = Failure::Canceled;
        break;
    default:
        r.failure = Failure::Other;
        break;
    }
    return r;
}

// A whole answer, or the failure that stopped it.
TransportResult answer(httplib::Result res) {
    if (!res)
        return failed(res.error());
    TransportResult r;
    r.status = res->status;
    r.body = std::move(res->body);
    return r;
}

class HttplibTransport final : public core::http::Transport {
public:
    HttplibTransport(const std::string& base, int64_t connect_ms, int64_t read_ms,
                     const char* bearer)
        : client_(base) {
        if (bearer && *bearer)
            client_.set_bearer_token_auth(bearer);
        client_.set_connection_timeout(std::chrono::milliseconds(connect_ms));
        client_.set_read_timeout(std::chrono::milliseconds(read_ms));
        client_.set_write_timeout(std::chrono::milliseconds(connect_ms));
        client_.set_keep_alive(true);
        // A POST goes out as two writes (headers, then body): without this,
        // Nagle holds the body until the server's delayed ACK, 40 ms a request.
        client_.set_tcp_nodelay(true);
    }
    bool valid() const { return client_.is_valid(); }

    TransportResult get(const std::string& path) override { return answer(client_.Get(path)); }

    TransportResult post_json(const std::string& path, const std::string& body) override {
        return answer(client_.Post(path, body, "application/json"));
    }

    TransportResult delete_json(const std::string& path, const std::string& body) override {
        return answer(client_.Delete(path, body, "application/json"));
    }

    TransportResult
    post_json_stream(const std::string& path, const std::string& body,
                     const std::function<bool(std::string_view)>& on_chunk) override {
        httplib::Request req;
        req.method = "POST";
        req.path = path;
        req.body = body;
        req.set_header("Content-Type", "application/json");
        TransportResult r;
        req.response_handler = [&](const httplib::Response& res) {
            r.status = res.status;
            return true;
        };
        req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
            r.received = true;
            if (r.status < 200 || r.status >= 300) {
                r.body.append(data, len);
                return true;
            }
            return on_chunk(std::string_view(data, len));
        };
        auto res = client_.send(req);
        if (!res) {
            auto f = failed(res.error());
            r.failure = f.failure;
            r.detail = f.detail;
            return r;
        }
        r.status = res->status;
        return r;
    }

private:
    httplib::Client client_;
};

} // namespace

extern "C" __attribute__((visibility("default"))) core::http::Transport*
modelctl_http_transport_v3(const char* base, int64_t connect_ms, int64_t read_ms,
                           const char* bearer) {
    auto t = std::make_unique<HttplibTransport>(base, connect_ms, read_ms, bearer);
    return t->valid() ? t.release() : nullptr;
}

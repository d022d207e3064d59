#include "http/client.hpp"

#include "error.hpp"
#include "util/duration.hpp"

#include <httplib.h>

namespace core::http {

namespace {

std::string describe(httplib::Error e, const Timeouts& t) {
    using E = httplib::Error;
    auto secs = [](std::chrono::milliseconds ms) { return util::format_duration(ms); };
    switch (e) {
    case E::Connection:
        return "connection refused or host unreachable";
    case E::ConnectionTimeout:
        return "no connection within " + secs(t.connect) + " (connect timeout)";
    case E::Read:
        return "no complete response within " + secs(t.read) +
               " or the connection was closed (read timeout)";
    case E::Write:
        return "the connection was closed while sending the request";
    case E::SSLConnection:
    case E::SSLLoadingCerts:
    case E::SSLServerVerification:
        return "TLS handshake failed (" + httplib::to_string(e) + ")";
    default:
        return httplib::to_string(e);
    }
}

[[noreturn]] void throw_transport(const Endpoint& ep, httplib::Error e, const Timeouts& t) {
    throw Error(ErrorKind::Unreachable,
                "cannot reach server at " + ep.url() + ": " + describe(e, t),
                "is the server running? Set the address with --host or OLLAMA_HOST");
}

} // namespace

Client::Client(Endpoint endpoint, Timeouts timeouts)
    : endpoint_(std::move(endpoint)), timeouts_(timeouts) {
    std::string base = endpoint_.scheme + "://" + endpoint_.host_port();
    client_ = std::make_unique<httplib::Client>(base);
    if (!client_->is_valid())
        throw Error(ErrorKind::Usage, "unsupported server address " + endpoint_.url(),
                    "use http:// or https://");
    client_->set_connection_timeout(timeouts_.connect);
    client_->set_read_timeout(timeouts_.read);
    client_->set_write_timeout(timeouts_.connect);
    client_->set_keep_alive(true);
}

Client::~Client() = default;

Response Client::get(const std::string& path) {
    auto res = client_->Get(endpoint_.base_path + path);
    if (!res)
        throw_transport(endpoint_, res.error(), timeouts_);
    return {res->status, std::move(res->body)};
}

Response Client::post_json(const std::string& path, const std::string& body) {
    auto res = client_->Post(endpoint_.base_path + path, body, "application/json");
    if (!res)
        throw_transport(endpoint_, res.error(), timeouts_);
    return {res->status, std::move(res->body)};
}

Response Client::post_json_stream(const std::string& path, const std::string& body,
                                  const std::function<bool(std::string_view)>& on_chunk) {
    httplib::Request req;
    req.method = "POST";
    req.path = endpoint_.base_path + path;
    req.body = body;
    req.set_header("Content-Type", "application/json");
    int status = 0;
    std::string error_body;
    bool received = false;
    req.response_handler = [&](const httplib::Response& r) {
        status = r.status;
        return true;
    };
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
        received = true;
        if (status < 200 || status >= 300) {
            error_body.append(data, len);
            return true;
        }
        return on_chunk(std::string_view(data, len));
    };
    auto res = client_->send(req);
    if (!res) {
        if (res.error() == httplib::Error::Canceled)
            return {status, {}};
        if (received) // the server went away mid-stream
            throw Error(ErrorKind::Protocol,
                        "the response from " + endpoint_.url() +
                            " ended early: " + describe(res.error(), timeouts_));
        throw_transport(endpoint_, res.error(), timeouts_);
    }
    return {res->status, std::move(error_body)};
}

} // namespace core::http

#pragma once
// The proxy's side of a connection to a model server: connections kept for
// reuse, and one answer read as it arrives (head first, then the body in
// pieces, decoded from chunked framing). Only a connect timeout and an idle
// timeout between bytes apply: a 70B model's first token may take minutes,
// so there is no deadline for a whole answer. Plain HTTP only.

#include "http/socket.hpp"
#include "http/wire.hpp"

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace core::http {

class UpstreamPool {
public:
    UpstreamPool(std::string host, int port, Millis connect_timeout, size_t max_idle = 64)
        : host_(std::move(host)), port_(port), connect_timeout_(connect_timeout),
          max_idle_(max_idle) {}

    // An idle connection when `reuse` and one is kept, else a new one
    // (invalid, with `why`, when it cannot connect).
    Socket acquire(bool reuse, bool& reused, std::string& why);
    // Keeps a connection whose last answer was read whole, for the next request.
    void release(Socket s);

    const std::string& host() const { return host_; }
    int port() const { return port_; }

private:
    std::string host_;
    int port_;
    Millis connect_timeout_;
    size_t max_idle_;
    std::mutex mutex_;
    std::deque<Socket> idle_;
};

// One answer on a connection, read as it comes.
class ResponseReader {
public:
    ResponseReader(int fd, std::string method, Millis idle)
        : fd_(fd), method_(std::move(method)), idle_(idle) {}

    // Reads until a final head is in (an interim 1xx is skipped). nullopt on
    // failure (why()); `received_nothing` then says whether the server sent
    // no byte at all (a kept connection it had closed: safe to retry).
    std::optional<ResponseHead> read_head(const StopCheck& stop, bool& received_nothing);
    // Hands on the body's pieces as they arrive until it ends (IoResult::Ok);
    // on_piece returning false stops it (IoResult::Stopped).
    IoResult read_body(const std::function<bool(std::string_view)>& on_piece,
                       const StopCheck& stop);
    // Whether the connection can carry another request.
    bool reusable() const { return reusable_; }
    // Whether bytes of the body came with the head (read_body hands them on
    // without waiting).
    bool body_buffered() const { return !buffer_.empty(); }
    const std::string& why() const { return why_; }

private:
    int fd_;
    std::string method_;
    Millis idle_;
    std::string buffer_;
    Framing framing_;
    bool close_after_ = false;
    bool reusable_ = false;
    std::string why_;
};

} // namespace core::http

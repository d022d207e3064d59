#pragma once
// An HTTP/1.1 server for a streaming proxy: one thread per connection, the
// request body read in pieces as the handler asks for them, the answer's
// status and head sent when the handler says (not when it returns), every
// piece of the body sent as soon as it is written, and a way to see that the
// client has left while the handler waits for something else. (cpp-httplib
// 0.11's server offers none of these; docs/ARCHITECTURE.md.)
//
// Limits: a head of at most kMaxHead bytes arriving within head_timeout; a
// body with no pause longer than idle_timeout; a client that takes no bytes
// for idle_timeout is dropped; at most max_connections at once (the rest
// are answered 503 and closed). Bodies are never collected here.

#include "http/socket.hpp"
#include "http/wire.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace core::http {

struct ServerLimits {
    size_t max_connections = 1024;
    Millis head_timeout{30000};      // the whole head of a request
    Millis keep_alive_timeout{5000}; // between two requests on one connection
    Millis idle_timeout{300000};     // a body that stalls, a client that does not read
};

// One request and its answer, on the connection's thread.
class Exchange {
public:
    const RequestHead& request() const { return head_; }
    const std::string& peer() const { return peer_; } // the client's address

    // Hands the request body on in pieces as it arrives; false when it ended
    // early (the client left, stalled, or broke the framing: error() says).
    // A body already read is not read again (true at once). Answers an
    // `Expect: 100-continue` first.
    bool read_body(const std::function<bool(std::string_view)>& on_piece);
    bool body_read() const { return body_left_ == 0 && !chunked_; }
    // Whether the client has gone (closed, reset). Reliable once the body has
    // been read: before, unread body bytes hide the end.
    bool client_gone() const;

    // The status line and head, sent with the body's first piece (write(),
    // finish() or flush() send it). With a Content-Length the body must be
    // exactly that long; without one it goes out chunked (HTTP/1.0: until the
    // connection closes). Adds Connection: close when the connection will
    // not be reused. False when the client is gone.
    bool respond(ResponseHead head);
    // Sends the head now if it is still held (respond() holds it until the
    // body's first piece, to send both at once): call it before waiting for
    // that piece. False when the client is gone.
    bool flush();
    // Fields every answer to this request carries (CORS), added by respond().
    void add_answer_fields(const Fields& fields) {
        extra_.insert(extra_.end(), fields.begin(), fields.end());
    }
    bool responded() const { return responded_; }
    // One piece of the body, sent at once. False when the client is gone.
    bool write(std::string_view piece);
    // Ends the body. False when it could not be ended properly.
    bool finish();
    // The answer broke off (the upstream failed mid-body): the connection
    // closes without ending the body, which is how the client learns it.
    void fail() {
        broken_ = true;
        keep_alive_ = false;
    }
    // A whole answer at once.
    bool reply(int status, std::string_view content_type, std::string_view body, Fields extra = {});

    const std::string& error() const { return error_; }

private:
    friend class Server;
    Exchange(int fd, std::string peer, std::string& buffer, const ServerLimits& limits,
             const std::atomic<bool>& aborting);
    bool send(std::string_view bytes);

    int fd_;
    std::string peer_;
    std::string& buffer_; // bytes read past the head: body, then maybe the next request
    const ServerLimits& limits_;
    const std::atomic<bool>& aborting_;
    RequestHead head_;
    uint64_t body_left_ = 0;
    bool chunked_ = false;
    ChunkDecoder decoder_;
    bool expect_continue_ = false;
    bool responded_ = false;
    bool finished_ = false;
    bool head_only_ = false; // HEAD, 1xx, 204, 304: no body goes out
    bool out_chunked_ = false;
    std::string pending_; // the head, held until the body's first piece
    bool out_until_close_ = false;
    std::optional<uint64_t> out_left_;
    bool keep_alive_ = true;
    bool broken_ = false;
    Fields extra_;
    std::string error_;
};

using Handler = std::function<void(Exchange&)>;

class Server {
public:
    // Serves on `listener` (from listen_tcp) once run() is called.
    Server(Socket listener, Handler handler, ServerLimits limits = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Accepts until stop(); then waits for every connection to end.
    void run();
    // Stops accepting; connections between requests close, answers in
    // progress go on. Safe from any thread (not from a signal handler).
    void stop();
    // Cuts every connection still open (after a grace period).
    void abort();
    size_t connections() const;

private:
    void serve_connection(Socket s, std::string peer);

    Socket listener_;
    Handler handler_;
    ServerLimits limits_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> aborting_{false};
    int wake_[2] = {-1, -1}; // a pipe that wakes the accept loop
    mutable std::mutex mutex_;
    std::condition_variable idle_;
    std::set<int> open_; // connection fds, for abort()
};

} // namespace core::http

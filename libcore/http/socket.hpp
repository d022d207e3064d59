#pragma once
// TCP sockets for the proxy's server and upstream connections: blocking
// calls that each wait at most a given time, in slices, so a caller can also
// stop waiting when something else happens (the client left, a shutdown).
// Failures are values, never exceptions: a proxy decides per connection.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace core::http {

using Millis = std::chrono::milliseconds;

// A file descriptor owned once.
class Socket {
public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket() { close(); }
    Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Socket& operator=(Socket&& o) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    int fd() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    void close();
    // shutdown(SHUT_RDWR): wakes a thread blocked on the socket.
    void shutdown();

private:
    int fd_ = -1;
};

enum class IoResult { Ok, Closed, Timeout, Stopped, Error };

// Called between waits; true stops the wait (IoResult::Stopped).
using StopCheck = std::function<bool()>;

// Connects to host:port (a name is resolved; every address is tried in turn)
// within `timeout`. On failure returns an invalid socket and says why.
Socket connect_tcp(const std::string& host, int port, Millis timeout, std::string& why);

// A listening socket on host:port (port 0: any free one); the port bound in
// `bound_port`. Invalid, with `why`, on failure.
Socket listen_tcp(const std::string& host, int port, int& bound_port, std::string& why);

// Reads what is there (at most `cap` bytes, appended to `out`), waiting at
// most `idle` for the first byte. Closed: the peer closed cleanly.
IoResult read_some(int fd, std::string& out, size_t cap, Millis idle, const StopCheck& stop);

// Writes all of `data`, waiting at most `idle` each time the peer stops
// taking bytes.
IoResult write_all(int fd, std::string_view data, Millis idle, const StopCheck& stop = {});

// Whether the peer has closed its side or the connection broke (checked
// without waiting or consuming anything).
bool peer_gone(int fd);

// How often waits look at their StopCheck.
inline constexpr Millis kPollSlice{50};

} // namespace core::http

#include "http/socket.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace core::http {

namespace {

using Clock = std::chrono::steady_clock;

// Waits for `events` on fd, at most `wait`, looking at `stop` every slice.
IoResult wait_for(int fd, short events, Millis wait, const StopCheck& stop) {
    auto deadline = Clock::now() + wait;
    while (true) {
        if (stop && stop())
            return IoResult::Stopped;
        auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
        if (left.count() <= 0)
            return IoResult::Timeout;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min(left, kPollSlice).count()));
        if (n < 0 && errno != EINTR)
            return IoResult::Error;
        if (n > 0)
            return IoResult::Ok; // readable, writable, or an error the next call reports
    }
}

void set_nodelay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

} // namespace

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

void Socket::close() {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

void Socket::shutdown() {
    if (fd_ >= 0)
        ::shutdown(fd_, SHUT_RDWR);
}

Socket connect_tcp(const std::string& host, int port, Millis timeout, std::string& why) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    std::string service = std::to_string(port);
    std::string name =
        host.size() > 2 && host.front() == '[' ? host.substr(1, host.size() - 2) : host;
    if (int rc = ::getaddrinfo(name.c_str(), service.c_str(), &hints, &res); rc != 0) {
        why = std::string("cannot resolve ") + host + ": " + ::gai_strerror(rc);
        return {};
    }
    why = "no address for " + host;
    for (addrinfo* a = res; a; a = a->ai_next) {
        Socket s(
            ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
        if (!s.valid())
            continue;
        int rc = ::connect(s.fd(), a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            IoResult w = wait_for(s.fd(), POLLOUT, timeout, {});
            if (w == IoResult::Timeout) {
                why = "connect timeout";
                continue;
            }
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
            rc = err ? -1 : 0;
            errno = err;
        }
        if (rc != 0) {
            why = std::strerror(errno);
            continue;
        }
        set_nodelay(s.fd());
        ::freeaddrinfo(res);
        return s;
    }
    ::freeaddrinfo(res);
    return {};
}

Socket listen_tcp(const std::string& host, int port, int& bound_port, std::string& why) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string service = std::to_string(port);
    std::string name =
        host.size() > 2 && host.front() == '[' ? host.substr(1, host.size() - 2) : host;
    if (int rc =
            ::getaddrinfo(name.empty() ? nullptr : name.c_str(), service.c_str(), &hints, &res);
        rc != 0) {
        why = std::string("cannot resolve ") + host + ": " + ::gai_strerror(rc);
        return {};
    }
    Socket s(::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol));
    int one = 1;
    if (!s.valid() || ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::bind(s.fd(), res->ai_addr, res->ai_addrlen) != 0 || ::listen(s.fd(), 1024) != 0) {
        why = std::strerror(errno);
        ::freeaddrinfo(res);
        return {};
    }
    ::freeaddrinfo(res);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&ss), &len);
    bound_port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                          : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    return s;
}

IoResult read_some(int fd, std::string& out, size_t cap, Millis idle, const StopCheck& stop) {
    IoResult w = wait_for(fd, POLLIN, idle, stop);
    if (w != IoResult::Ok)
        return w;
    // Into the stack, then appended: growing `out` by `cap` first would
    // zero-fill 64 KiB for every read of a 200-byte request (1.5% of serve's
    // CPU at 64 clients, perf).
    char chunk[64 << 10];
    ssize_t n;
    do
        n = ::recv(fd, chunk, std::min(cap, sizeof chunk), MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        out.append(chunk, static_cast<size_t>(n));
        return IoResult::Ok;
    }
    if (n == 0)
        return IoResult::Closed;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return read_some(fd, out, cap, idle, stop); // a spurious wake-up
    return errno == ECONNRESET ? IoResult::Closed : IoResult::Error;
}

IoResult write_all(int fd, std::string_view data, Millis idle, const StopCheck& stop) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (IoResult w = wait_for(fd, POLLOUT, idle, stop); w != IoResult::Ok)
                return w;
            continue;
        }
        return errno == EPIPE || errno == ECONNRESET ? IoResult::Closed : IoResult::Error;
    }
    return IoResult::Ok;
}

bool peer_gone(int fd) {
    pollfd p{fd, static_cast<short>(POLLIN | POLLRDHUP), 0};
    if (::poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
        return true;
    // Readable: either more data (a pipelined request: still there) or EOF.
    char c;
    ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

} // namespace core::http

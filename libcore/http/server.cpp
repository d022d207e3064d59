#include "http/server.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace core::http {

namespace {

using Clock = std::chrono::steady_clock;

std::string peer_name(const sockaddr_storage& ss) {
    char buf[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf,
                    sizeof buf);
    else
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
    return buf;
}

const char* describe(IoResult r) {
    switch (r) {
    case IoResult::Closed:
        return "the client closed the connection";
    case IoResult::Timeout:
        return "the client stalled";
    case IoResult::Stopped:
        return "the server is stopping";
    default:
        return "the connection broke";
    }
}

std::string plain_answer(int status, std::string_view body) {
    ResponseHead h;
    h.status = status;
    h.fields = {{"Content-Type", "application/json; charset=utf-8"},
                {"Content-Length", std::to_string(body.size())},
                {"Connection", "close"}};
    return serialize(h) + std::string(body);
}

} // namespace

Exchange::Exchange(int fd, std::string peer, std::string& buffer, const ServerLimits& limits,
                   const std::atomic<bool>& aborting)
    : fd_(fd), peer_(std::move(peer)), buffer_(buffer), limits_(limits), aborting_(aborting) {}

bool Exchange::read_body(const std::function<bool(std::string_view)>& on_piece) {
    if (body_read())
        return true;
    if (expect_continue_ && !responded_) {
        expect_continue_ = false;
        if (!send("HTTP/1.1 100 Continue\r\n\r\n"))
            return false;
    }
    bool ok = true;
    while (true) {
        if (!buffer_.empty()) {
            if (chunked_) {
                size_t used = decoder_.feed(buffer_, [&](std::string_view d) {
                    if (ok)
                        ok = on_piece(d);
                });
                buffer_.erase(0, used);
                if (!decoder_.error().empty()) {
                    error_ = "malformed chunked body: " + decoder_.error();
                    keep_alive_ = false;
                    return false;
                }
                if (decoder_.done())
                    chunked_ = false;
            } else {
                size_t n = static_cast<size_t>(std::min<uint64_t>(body_left_, buffer_.size()));
                ok = on_piece(std::string_view(buffer_).substr(0, n));
                buffer_.erase(0, n);
                body_left_ -= n;
            }
            if (body_read())
                return ok;
            if (!ok)
                return false; // the reader stopped: the rest stays unread
        }
        IoResult r = read_some(fd_, buffer_, 64 << 10, limits_.idle_timeout,
                               [this] { return aborting_.load(); });
        if (r != IoResult::Ok) {
            error_ = std::string("request body cut short: ") + describe(r);
            keep_alive_ = false;
            return false;
        }
    }
}

bool Exchange::client_gone() const {
    return aborting_ || peer_gone(fd_);
}

bool Exchange::respond(ResponseHead head) {
    if (responded_)
        return false;
    responded_ = true;
    head.minor = 1;
    head.fields.insert(head.fields.end(), extra_.begin(), extra_.end());
    head_only_ =
        head_.method == "HEAD" || head.status < 200 || head.status == 204 || head.status == 304;
    bool wants_keep_alive = head_.minor >= 1 && !has_token(head_.fields, "connection", "close");
    keep_alive_ = keep_alive_ && wants_keep_alive && body_read();
    remove_field(head.fields, "connection");
    remove_field(head.fields, "transfer-encoding");
    if (!head_only_) {
        const std::string* cl = find_field(head.fields, "content-length");
        uint64_t n = 0;
        if (cl) {
            auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
            if (ec == std::errc() && p == cl->data() + cl->size())
                out_left_ = n;
            else
                remove_field(head.fields, "content-length");
        }
        if (!out_left_) {
            if (head_.minor >= 1) {
                head.fields.push_back({"Transfer-Encoding", "chunked"});
                out_chunked_ = true;
            } else {
                out_until_close_ = true;
                keep_alive_ = false;
            }
        }
    }
    if (!keep_alive_)
        head.fields.push_back({"Connection", "close"});
    // Held until the body's first piece, to go out with it in one send
    // (one packet, one wake-up of the client); a head with no body to
    // follow, or one whose body is not ready (flush()), goes now.
    pending_ = serialize(head);
    if (head_only_ || (out_left_ && *out_left_ == 0))
        return flush();
    return true;
}

bool Exchange::flush() {
    if (pending_.empty())
        return !broken_;
    std::string head = std::move(pending_);
    pending_.clear();
    return send(head);
}

bool Exchange::write(std::string_view piece) {
    if (!responded_ || finished_ || broken_)
        return false;
    if (head_only_ || piece.empty())
        return true;
    if (out_chunked_) {
        char size[20];
        auto [p, ec] = std::to_chars(size, size + sizeof size, piece.size(), 16);
        (void)ec;
        std::string chunk = std::move(pending_);
        pending_.clear();
        chunk.reserve(chunk.size() + static_cast<size_t>(p - size) + piece.size() + 4);
        chunk.append(size, p).append("\r\n").append(piece).append("\r\n");
        return send(chunk);
    }
    if (out_left_) {
        if (piece.size() > *out_left_) {
            error_ = "answer longer than its Content-Length";
            broken_ = true;
            keep_alive_ = false;
            return false;
        }
        *out_left_ -= piece.size();
    }
    if (pending_.empty())
        return send(piece);
    std::string bytes = std::move(pending_);
    pending_.clear();
    bytes.append(piece);
    return send(bytes);
}

bool Exchange::finish() {
    if (!responded_ || finished_)
        return !broken_;
    finished_ = true;
    if (broken_)
        return false;
    if (head_only_)
        return flush();
    if (out_chunked_) {
        std::string last = std::move(pending_);
        pending_.clear();
        return send(last.append("0\r\n\r\n"));
    }
    if (!flush())
        return false;
    if (out_left_ && *out_left_ > 0) {
        // Cut short: only closing the connection tells the client so.
        broken_ = true;
        keep_alive_ = false;
        return false;
    }
    return true;
}

bool Exchange::reply(int status, std::string_view content_type, std::string_view body,
                     Fields extra) {
    ResponseHead h;
    h.status = status;
    h.fields = std::move(extra);
    if (!content_type.empty())
        h.fields.push_back({"Content-Type", std::string(content_type)});
    if (status != 204 && status != 304 && status >= 200)
        h.fields.push_back({"Content-Length", std::to_string(body.size())});
    return respond(std::move(h)) && write(body) && finish();
}

bool Exchange::send(std::string_view bytes) {
    IoResult r = write_all(fd_, bytes, limits_.idle_timeout, [this] { return aborting_.load(); });
    if (r == IoResult::Ok)
        return true;
    error_ = describe(r);
    broken_ = true;
    keep_alive_ = false;
    return false;
}

Server::Server(Socket listener, Handler handler, ServerLimits limits)
    : listener_(std::move(listener)), handler_(std::move(handler)), limits_(limits) {
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
        wake_[0] = wake_[1] = -1;
}

Server::~Server() {
    for (int fd : wake_)
        if (fd >= 0)
            ::close(fd);
}

void Server::run() {
    while (!stopping_) {
        pollfd fds[2] = {{listener_.fd(), POLLIN, 0}, {wake_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (stopping_)
            break;
        if (!(fds[0].revents & POLLIN))
            continue;
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        int fd = ::accept4(listener_.fd(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        Socket s(fd);
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        {
            std::lock_guard lock(mutex_);
            if (open_.size() >= limits_.max_connections) {
                write_all(fd, plain_answer(503, R"({"error":"too many connections"})"),
                          Millis(100));
                continue;
            }
            open_.insert(fd);
        }
        try {
            std::thread([this, sock = std::move(s), peer = peer_name(ss)]() mutable {
                serve_connection(std::move(sock), std::move(peer));
            }).detach();
        } catch (const std::system_error&) {
            std::lock_guard lock(mutex_);
            open_.erase(fd); // no thread to spare: the socket closes unanswered
        }
    }
    listener_.close();
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return open_.empty(); });
}

void Server::stop() {
    stopping_ = true;
    if (wake_[1] >= 0) {
        char c = 1;
        [[maybe_unused]] ssize_t n = ::write(wake_[1], &c, 1);
    }
}

void Server::abort() {
    aborting_ = true;
    stop();
    std::lock_guard lock(mutex_);
    for (int fd : open_)
        ::shutdown(fd, SHUT_RDWR);
}

size_t Server::connections() const {
    std::lock_guard lock(mutex_);
    return open_.size();
}

void Server::serve_connection(Socket s, std::string peer) {
    std::string buffer;
    bool first = true;
    while (!aborting_) {
        size_t end;
        auto started = Clock::now();
        bool ok = true;
        while ((end = head_end(buffer)) == std::string::npos) {
            if (buffer.size() > kMaxHead) {
                write_all(s.fd(), plain_answer(431, R"({"error":"request head too large"})"),
                          Millis(1000));
                ok = false;
                break;
            }
            // Between requests wait keep_alive_timeout (stopping ends the
            // wait); once a head has begun, head_timeout in all.
            bool waiting = buffer.empty();
            auto left = waiting ? (first ? limits_.head_timeout : limits_.keep_alive_timeout)
                                : limits_.head_timeout -
                                      std::chrono::duration_cast<Millis>(Clock::now() - started);
            IoResult r = read_some(s.fd(), buffer, 16 << 10, std::max(left, Millis(1)),
                                   [&] { return aborting_ || (stopping_ && buffer.empty()); });
            if (r != IoResult::Ok) {
                ok = false;
                break;
            }
        }
        if (!ok)
            break;
        std::string why;
        auto head = parse_request_head(std::string_view(buffer).substr(0, end), why);
        std::optional<Framing> framing;
        if (head)
            framing = request_framing(*head, why);
        if (!head || !framing) {
            write_all(s.fd(), plain_answer(400, R"({"error":"bad request: )" + why + "\"}"),
                      Millis(1000));
            break;
        }
        buffer.erase(0, end);
        Exchange ex(s.fd(), peer, buffer, limits_, aborting_);
        ex.head_ = std::move(*head);
        ex.chunked_ = framing->kind == Framing::Chunked;
        ex.body_left_ = framing->kind == Framing::Length ? framing->length : 0;
        ex.expect_continue_ = has_token(ex.head_.fields, "expect", "100-continue");
        if (stopping_)
            ex.keep_alive_ = false;
        try {
            handler_(ex);
        } catch (const std::exception&) {
            if (!ex.responded())
                ex.reply(500, "application/json; charset=utf-8", R"({"error":"internal error"})");
            ex.broken_ = true;
        }
        if (!ex.responded())
            ex.reply(502, "application/json; charset=utf-8", R"({"error":"no answer"})");
        ex.finish();
        if (!ex.keep_alive_ || ex.broken_ || stopping_)
            break;
        first = false;
    }
    std::lock_guard lock(mutex_);
    open_.erase(s.fd());
    s.close();
    idle_.notify_all();
}

} // namespace core::http

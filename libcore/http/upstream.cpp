#include "http/upstream.hpp"

namespace core::http {

Socket UpstreamPool::acquire(bool reuse, bool& reused, std::string& why) {
    reused = false;
    if (reuse) {
        std::lock_guard lock(mutex_);
        while (!idle_.empty()) {
            Socket s = std::move(idle_.back());
            idle_.pop_back();
            if (!peer_gone(s.fd())) {
                reused = true;
                return s;
            }
        }
    }
    return connect_tcp(host_, port_, connect_timeout_, why);
}

void UpstreamPool::release(Socket s) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_)
        idle_.push_back(std::move(s));
}

std::optional<ResponseHead> ResponseReader::read_head(const StopCheck& stop,
                                                      bool& received_nothing) {
    received_nothing = true;
    while (true) {
        size_t end;
        while ((end = head_end(buffer_)) == std::string::npos) {
            if (buffer_.size() > kMaxHead) {
                why_ = "answer head too large";
                return std::nullopt;
            }
            IoResult r = read_some(fd_, buffer_, 16 << 10, idle_, stop);
            if (r != IoResult::Ok) {
                why_ = r == IoResult::Timeout   ? "no answer within the idle timeout"
                       : r == IoResult::Stopped ? "stopped"
                       : r == IoResult::Closed  ? "the server closed the connection"
                                                : "the connection broke";
                return std::nullopt;
            }
            received_nothing = false;
        }
        auto head = parse_response_head(std::string_view(buffer_).substr(0, end), why_);
        if (!head)
            return std::nullopt;
        buffer_.erase(0, end);
        if (head->status >= 100 && head->status < 200 && head->status != 101)
            continue; // 100 Continue, 103 Early Hints: the answer follows
        auto framing = response_framing(*head, method_, why_);
        if (!framing)
            return std::nullopt;
        framing_ = *framing;
        close_after_ = head->minor == 0 || has_token(head->fields, "connection", "close") ||
                       head->status == 101;
        return head;
    }
}

IoResult ResponseReader::read_body(const std::function<bool(std::string_view)>& on_piece,
                                   const StopCheck& stop) {
    ChunkDecoder decoder;
    uint64_t left = framing_.length;
    bool ok = true;
    auto done = [&] {
        switch (framing_.kind) {
        case Framing::Empty:
            return true;
        case Framing::Length:
            return left == 0;
        case Framing::Chunked:
            return decoder.done();
        default:
            return false;
        }
    };
    while (!done()) {
        if (!buffer_.empty()) {
            if (framing_.kind == Framing::Chunked) {
                size_t used = decoder.feed(buffer_, [&](std::string_view d) {
                    if (ok)
                        ok = on_piece(d);
                });
                buffer_.erase(0, used);
                if (!decoder.error().empty()) {
                    why_ = "malformed chunked answer: " + decoder.error();
                    return IoResult::Error;
                }
            } else {
                size_t n = framing_.kind == Framing::Length
                               ? static_cast<size_t>(std::min<uint64_t>(left, buffer_.size()))
                               : buffer_.size();
                ok = on_piece(std::string_view(buffer_).substr(0, n));
                buffer_.erase(0, n);
                left -= framing_.kind == Framing::Length ? n : 0;
            }
            if (!ok)
                return IoResult::Stopped;
            if (done())
                break;
        }
        IoResult r = read_some(fd_, buffer_, 64 << 10, idle_, stop);
        if (r == IoResult::Closed && framing_.kind == Framing::UntilClose)
            return IoResult::Ok;
        if (r != IoResult::Ok) {
            why_ = r == IoResult::Timeout   ? "the answer stalled past the idle timeout"
                   : r == IoResult::Stopped ? "stopped"
                                            : "the answer was cut short";
            return r == IoResult::Closed ? IoResult::Error : r;
        }
    }
    reusable_ = !close_after_ && buffer_.empty();
    return IoResult::Ok;
}

} // namespace core::http

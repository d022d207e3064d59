#pragma once
// A small blocking HTTP/1.1 client for JSON APIs (cpp-httplib underneath,
// loaded on first use: see transport.hpp).
//
// Every byte from a server is hostile until checked, so every request is
// bounded:
// - in time: one deadline per request (connect + headers + body), enforced
//   by a watchdog thread that cancels the request, however slowly the server
//   drips bytes; a stream instead has an idle timeout between pieces and,
//   where the caller asks for one, an overall deadline;
// - in size: a body past kMaxBody (decompressed), or a stream line past
//   kMaxLine (LineSplitter), is cut off with an error saying so;
// - by the user: Ctrl-C cancels a request in flight at once and refuses new
//   ones (util/interrupt.hpp): Error{Interrupted}.
//
// Transport failures (refused, unreachable, connect timeout, TLS) throw
// core::Error of kind Unreachable naming the address tried; a deadline
// passed throws Unreachable too ("no complete answer within 5s"). An answer
// that is not HTTP, is cut short or breaks its own framing throws Protocol
// ("malformed answer"), as does a redirect (never followed) and a body too
// large. HTTP error statuses are returned, not thrown: what they mean depends
// on the API (see provider/ollama_api.hpp).

#include "http/endpoint.hpp"
#include "http/transport.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace core::http {

// The largest body a JSON answer may have (decompressed).
inline constexpr uint64_t kMaxBody = 64ULL << 20;
// The largest line of a streamed answer (NDJSON, SSE).
inline constexpr size_t kMaxLine = 1 << 20;
// The longest host string accepted (a hostname is at most 253 bytes; the
// rest is room for a scheme, port and path prefix). Longer ones are refused
// before they reach the library, whose URL regex recurses per character.
inline constexpr size_t kMaxAddress = 1024;

struct Timeouts {
    std::chrono::milliseconds connect{5000};
    // One deadline for each request, from connecting to the last byte; for a
    // stream, the longest wait for its headers and between two pieces.
    std::chrono::milliseconds request{300000}; // a cold load of a 70B model takes minutes
    // A stream's overall deadline; none when unset.
    std::optional<std::chrono::milliseconds> stream_total;
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
    const Timeouts& timeouts() const { return timeouts_; }

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
    Response exchange(const char* method, const std::string& path, const std::string& body,
                      const std::function<bool(std::string_view)>* on_chunk);

    Endpoint endpoint_;
    Timeouts timeouts_;
    std::string unreachable_hint_;
    std::unique_ptr<Transport> transport_;
};

// Splits a byte stream into lines and hands each complete, non-empty line
// on (a trailing \r removed). Scans only the bytes it has not scanned yet;
// a line longer than kMaxLine throws Error{Protocol}. finish() hands on
// what is left after the last newline: a stream's last line need not end
// with one.
class LineSplitter {
public:
    explicit LineSplitter(std::string source = "the server", size_t max_line = kMaxLine)
        : source_(std::move(source)), max_line_(max_line) {}

    template <class F> void feed(std::string_view chunk, F&& on_line) {
        size_t scanned = buffer_.size();
        buffer_.append(chunk);
        size_t start = 0;
        for (size_t nl; (nl = buffer_.find('\n', scanned)) != std::string::npos;
             start = scanned = nl + 1)
            emit(std::string_view(buffer_.data() + start, nl - start), on_line);
        buffer_.erase(0, start);
        if (buffer_.size() > max_line_)
            too_long();
    }
    template <class F> void finish(F&& on_line) {
        std::string rest = std::move(buffer_);
        buffer_.clear();
        emit(rest, on_line);
    }

private:
    template <class F> void emit(std::string_view line, F& on_line) {
        if (line.size() > max_line_)
            too_long();
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (!line.empty())
            on_line(line);
    }
    [[noreturn]] void too_long() const;

    std::string buffer_;
    std::string source_;
    size_t max_line_;
};

} // namespace core::http

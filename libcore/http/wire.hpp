#pragma once
// HTTP/1.1 messages as bytes (RFC 9112), for the proxy's own server and its
// upstream connections (http/server.hpp, http/upstream.hpp), which pass heads
// through nearly untouched and so cannot use a library that rewrites them.
//
// Parsing is strict where leniency lets a request be read two ways (request
// smuggling): a field name with a space before its colon, an obsolete line
// fold, both Content-Length and Transfer-Encoding, two different
// Content-Lengths, a Transfer-Encoding other than a final "chunked" are all
// refused. Heads are bounded (kMaxHead bytes, kMaxFields fields); chunk sizes
// are checked for overflow. Nothing here reads a socket.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core::http {

inline constexpr size_t kMaxHead = 64 << 10;
inline constexpr size_t kMaxFields = 128;

struct Field {
    std::string name; // as sent; compare with iequals
    std::string value;
};
using Fields = std::vector<Field>;

bool iequals(std::string_view a, std::string_view b);
// The value of the first field named `name`, or nullptr.
const std::string* find_field(const Fields& fields, std::string_view name);
// Whether any `name` field lists `token` among its comma-separated values
// (Connection: keep-alive, Upgrade), case-insensitively.
bool has_token(const Fields& fields, std::string_view name, std::string_view token);
// Removes every field named `name`.
void remove_field(Fields& fields, std::string_view name);
// Replaces the fields named `name` with one (appended when absent).
void set_field(Fields& fields, std::string_view name, std::string value);

struct RequestHead {
    std::string method;
    std::string target; // as sent: path and query
    int minor = 1;      // HTTP/1.minor
    Fields fields;
};

struct ResponseHead {
    int minor = 1;
    int status = 0;
    std::string reason;
    Fields fields;
};

// Where the head in `buf` ends: the offset just past its blank line, or npos
// while it is incomplete. Lines may end in CRLF or a bare LF.
size_t head_end(std::string_view buf);

// A head (through its blank line) parsed, or nullopt with the reason in `why`.
std::optional<RequestHead> parse_request_head(std::string_view head, std::string& why);
std::optional<ResponseHead> parse_response_head(std::string_view head, std::string& why);

struct Framing {
    enum Kind { Empty, Length, Chunked, UntilClose } kind = Empty;
    uint64_t length = 0; // for Length
};

// How a request's body is delimited; nullopt (and `why`) for a head that
// could be read two ways.
std::optional<Framing> request_framing(const RequestHead& h, std::string& why);
// How a response's body is delimited, given the request's method (a HEAD, a
// 1xx, 204 or 304 has none); nullopt for contradicting fields.
std::optional<Framing> response_framing(const ResponseHead& h, std::string_view method,
                                        std::string& why);

// The head as bytes, ending in the blank line.
std::string serialize(const RequestHead& h);
std::string serialize(const ResponseHead& h);

// The reason phrase of the common statuses ("OK", "Not Found"); "" otherwise.
const char* reason_phrase(int status);

// Decodes a chunked body as it arrives, handing on the data and skipping chunk
// extensions and trailers. feed() returns how many bytes of `in` it used: all
// of them until the body ends, then fewer (what follows is the next message).
class ChunkDecoder {
public:
    template <class F> size_t feed(std::string_view in, F&& on_data) {
        size_t used = 0;
        while (used < in.size() && state_ != State::Done && state_ != State::Failed) {
            if (state_ == State::Data) {
                size_t n = static_cast<size_t>(
                    std::min<uint64_t>(remaining_, static_cast<uint64_t>(in.size() - used)));
                on_data(in.substr(used, n));
                used += n;
                remaining_ -= n;
                if (remaining_ == 0)
                    state_ = State::DataEnd;
                continue;
            }
            used += step(in.substr(used));
        }
        return used;
    }
    bool done() const { return state_ == State::Done; }
    // Set after feed() when the encoding is broken; the body cannot be trusted.
    const std::string& error() const { return error_; }

private:
    enum class State { Size, Data, DataEnd, Trailer, Done, Failed };
    size_t step(std::string_view in); // one line's worth of framing
    State state_ = State::Size;
    uint64_t remaining_ = 0;
    std::string line_;
    std::string error_;
};

} // namespace core::http

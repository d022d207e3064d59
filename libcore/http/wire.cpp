#include "http/wire.hpp"

#include "util/text.hpp"

#include <charconv>

namespace core::http {

namespace {

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 9110 5.6.2 tchar.
bool is_tchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
    if (s.empty())
        return false;
    for (char c : s)
        if (!is_tchar(c))
            return false;
    return true;
}

// Splits `head` into lines (CRLF or LF), stopping at the blank line.
template <class F> bool for_lines(std::string_view head, F&& on_line) {
    while (!head.empty()) {
        size_t nl = head.find('\n');
        if (nl == std::string_view::npos)
            return false;
        std::string_view line = head.substr(0, nl);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        head.remove_prefix(nl + 1);
        if (line.empty())
            return true;
        if (!on_line(line))
            return false;
    }
    return false;
}

bool parse_version(std::string_view v, int& minor) {
    if (v.size() != 8 || v.substr(0, 7) != "HTTP/1." || v[7] < '0' || v[7] > '9')
        return false;
    minor = v[7] - '0';
    return true;
}

bool parse_field(std::string_view line, Fields& fields, std::string& why) {
    if (line.front() == ' ' || line.front() == '\t') {
        why = "obsolete line folding";
        return false;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
        why = "malformed header field";
        return false;
    }
    std::string_view value = util::trim_blanks(line.substr(colon + 1));
    for (char c : value)
        if (c == '\0' || c == '\r' || c == '\n') {
            why = "control character in a header value";
            return false;
        }
    if (fields.size() >= kMaxFields) {
        why = "too many header fields";
        return false;
    }
    fields.push_back({std::string(line.substr(0, colon)), std::string(value)});
    return true;
}

// A head: its first line read by `start_line`, then its fields.
template <class Head, class F>
std::optional<Head> parse_head(std::string_view text, std::string& why, F&& start_line) {
    Head h;
    bool first = true;
    bool ok = for_lines(text, [&](std::string_view line) {
        if (!first)
            return parse_field(line, h.fields, why);
        first = false;
        return start_line(line, h);
    });
    if (!ok || first) {
        if (why.empty())
            why = "incomplete head";
        return std::nullopt;
    }
    return h;
}

// Every Content-Length value (comma lists included) the same decimal number.
bool content_length(const Fields& fields, std::optional<uint64_t>& out, std::string& why) {
    for (const auto& f : fields) {
        if (!iequals(f.name, "content-length"))
            continue;
        std::string_view v = f.value;
        while (true) {
            size_t comma = v.find(',');
            std::string_view item = util::trim_blanks(v.substr(0, comma));
            uint64_t n = 0;
            auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
            if (item.empty() || ec != std::errc() || p != item.data() + item.size() ||
                item.front() == '+' || (out && *out != n)) {
                why = "invalid Content-Length";
                return false;
            }
            out = n;
            if (comma == std::string_view::npos)
                break;
            v.remove_prefix(comma + 1);
        }
    }
    return true;
}

// The last coding of Transfer-Encoding, lower-cased ("" when absent).
std::string last_coding(const Fields& fields, bool& present) {
    std::string last;
    present = false;
    for (const auto& f : fields) {
        if (!iequals(f.name, "transfer-encoding"))
            continue;
        present = true;
        std::string_view v = f.value;
        size_t comma = v.rfind(',');
        std::string_view item =
            util::trim_blanks(comma == std::string_view::npos ? v : v.substr(comma + 1));
        last.clear();
        for (char c : item)
            last += lower(c);
    }
    return last;
}

void append_fields(std::string& out, const Fields& fields) {
    for (const auto& f : fields) {
        out += f.name;
        out += ": ";
        out += f.value;
        out += "\r\n";
    }
    out += "\r\n";
}

} // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

const std::string* find_field(const Fields& fields, std::string_view name) {
    for (const auto& f : fields)
        if (iequals(f.name, name))
            return &f.value;
    return nullptr;
}

bool has_token(const Fields& fields, std::string_view name, std::string_view token) {
    for (const auto& f : fields) {
        if (!iequals(f.name, name))
            continue;
        std::string_view v = f.value;
        while (!v.empty()) {
            size_t comma = v.find(',');
            if (iequals(util::trim_blanks(v.substr(0, comma)), token))
                return true;
            if (comma == std::string_view::npos)
                break;
            v.remove_prefix(comma + 1);
        }
    }
    return false;
}

void remove_field(Fields& fields, std::string_view name) {
    std::erase_if(fields, [&](const Field& f) { return iequals(f.name, name); });
}

void set_field(Fields& fields, std::string_view name, std::string value) {
    remove_field(fields, name);
    fields.push_back({std::string(name), std::move(value)});
}

size_t head_end(std::string_view buf) {
    for (size_t nl = buf.find('\n'); nl != std::string_view::npos; nl = buf.find('\n', nl + 1)) {
        if (nl + 1 < buf.size() && buf[nl + 1] == '\n')
            return nl + 2;
        if (nl + 2 < buf.size() && buf[nl + 1] == '\r' && buf[nl + 2] == '\n')
            return nl + 3;
    }
    return std::string_view::npos;
}

std::optional<RequestHead> parse_request_head(std::string_view head, std::string& why) {
    return parse_head<RequestHead>(head, why, [&](std::string_view line, RequestHead& h) {
        size_t sp1 = line.find(' ');
        size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
        if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
            why = "malformed request line";
            return false;
        }
        std::string_view method = line.substr(0, sp1);
        std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        if (!is_token(method) || target.empty() || !parse_version(line.substr(sp2 + 1), h.minor)) {
            why = "malformed request line";
            return false;
        }
        for (unsigned char c : target)
            if (c <= 0x20 || c >= 0x7f) {
                why = "malformed request target";
                return false;
            }
        h.method = method;
        h.target = target;
        return true;
    });
}

std::optional<ResponseHead> parse_response_head(std::string_view head, std::string& why) {
    return parse_head<ResponseHead>(head, why, [&](std::string_view line, ResponseHead& h) {
        // HTTP/1.1 200 OK (the reason may be empty, and may hold spaces)
        if (line.size() < 12 || !parse_version(line.substr(0, 8), h.minor) || line[8] != ' ') {
            why = "malformed status line";
            return false;
        }
        int status = 0;
        auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, status);
        if (ec != std::errc() || p != line.data() + 12 || status < 100 || status > 999 ||
            (line.size() > 12 && line[12] != ' ')) {
            why = "malformed status line";
            return false;
        }
        h.status = status;
        if (line.size() > 13)
            h.reason = line.substr(13);
        for (unsigned char c : h.reason)
            if (c < 0x20 && c != '\t') {
                why = "malformed status line";
                return false;
            }
        return true;
    });
}

std::optional<Framing> request_framing(const RequestHead& h, std::string& why) {
    bool te = false;
    std::string coding = last_coding(h.fields, te);
    std::optional<uint64_t> length;
    if (!content_length(h.fields, length, why))
        return std::nullopt;
    if (te) {
        // RFC 9112 6.1: a request whose final coding is not chunked cannot
        // be delimited; with Content-Length too, it could be read two ways.
        if (length || h.minor == 0 || coding != "chunked" ||
            !iequals(util::trim_blanks(*find_field(h.fields, "transfer-encoding")), "chunked")) {
            why = "unsupported Transfer-Encoding";
            return std::nullopt;
        }
        return Framing{Framing::Chunked, 0};
    }
    if (length)
        return Framing{*length ? Framing::Length : Framing::Empty, *length};
    return Framing{Framing::Empty, 0};
}

std::optional<Framing> response_framing(const ResponseHead& h, std::string_view method,
                                        std::string& why) {
    if (method == "HEAD" || h.status < 200 || h.status == 204 || h.status == 304)
        return Framing{Framing::Empty, 0};
    bool te = false;
    std::string coding = last_coding(h.fields, te);
    if (te)
        return Framing{coding == "chunked" ? Framing::Chunked : Framing::UntilClose, 0};
    std::optional<uint64_t> length;
    if (!content_length(h.fields, length, why))
        return std::nullopt;
    if (length)
        return Framing{*length ? Framing::Length : Framing::Empty, *length};
    return Framing{Framing::UntilClose, 0};
}

std::string serialize(const RequestHead& h) {
    std::string out = h.method + " " + h.target + " HTTP/1." + std::to_string(h.minor) + "\r\n";
    append_fields(out, h.fields);
    return out;
}

std::string serialize(const ResponseHead& h) {
    std::string out = "HTTP/1." + std::to_string(h.minor) + " " + std::to_string(h.status) + " " +
                      (h.reason.empty() ? reason_phrase(h.status) : h.reason) + "\r\n";
    append_fields(out, h.fields);
    return out;
}

const char* reason_phrase(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 499:
        return "Client Closed Request";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "";
    }
}

size_t ChunkDecoder::step(std::string_view in) {
    // Size, DataEnd and Trailer states read one line each.
    size_t nl = in.find('\n');
    size_t take = nl == std::string_view::npos ? in.size() : nl + 1;
    line_.append(in.substr(0, take));
    if (line_.size() > 4096) {
        state_ = State::Failed;
        error_ = "chunk framing line too long";
        return in.size();
    }
    if (nl == std::string_view::npos)
        return take;
    std::string_view line = line_;
    line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    switch (state_) {
    case State::Size: {
        std::string_view size = util::trim_blanks(line.substr(0, line.find(';')));
        uint64_t n = 0;
        auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), n, 16);
        if (size.empty() || ec != std::errc() || p != size.data() + size.size()) {
            state_ = State::Failed;
            error_ = "invalid chunk size";
            break;
        }
        remaining_ = n;
        state_ = n ? State::Data : State::Trailer;
        break;
    }
    case State::DataEnd:
        if (!line.empty()) {
            state_ = State::Failed;
            error_ = "chunk not followed by CRLF";
        } else {
            state_ = State::Size;
        }
        break;
    case State::Trailer:
        if (line.empty())
            state_ = State::Done;
        break;
    default:
        break;
    }
    line_.clear();
    return take;
}

} // namespace core::http

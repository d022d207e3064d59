// Fuzz target: the proxy's HTTP/1.1 parsing (http/wire.hpp) and the usage
// tap (serve/usage.hpp), on bytes from a client or a server.
// - A head that parses serializes to one that parses the same.
// - A chunked body decodes the same whether fed whole or in pieces whose
//   sizes come from the input (differential), and uses no more bytes than
//   it was given.
// - The usage tap takes any bytes, in any pieces, under each content type.
#include "http/wire.hpp"
#include "serve/usage.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace core::http;

namespace {

void check_request(std::string_view text) {
    std::string why;
    auto h = parse_request_head(text, why);
    if (!h)
        return;
    request_framing(*h, why);
    auto again = parse_request_head(serialize(*h), why);
    if (!again || again->method != h->method || again->target != h->target ||
        again->fields.size() != h->fields.size())
        std::abort();
    for (size_t i = 0; i < h->fields.size(); ++i)
        if (again->fields[i].name != h->fields[i].name ||
            again->fields[i].value != h->fields[i].value)
            std::abort();
}

void check_response(std::string_view text) {
    std::string why;
    auto h = parse_response_head(text, why);
    if (!h)
        return;
    response_framing(*h, "GET", why);
    auto again = parse_response_head(serialize(*h), why);
    if (!again || again->status != h->status || again->fields.size() != h->fields.size())
        std::abort();
}

struct Decoded {
    std::string data;
    size_t used = 0;
    bool done = false;
    std::string error;
};

Decoded decode(std::string_view body, size_t step) {
    ChunkDecoder d;
    Decoded out;
    for (size_t i = 0; i < body.size() && !d.done() && d.error().empty(); i += step) {
        std::string_view piece = body.substr(i, step);
        size_t used = d.feed(piece, [&](std::string_view p) { out.data.append(p); });
        if (used > piece.size())
            std::abort();
        out.used += used;
        if (used < piece.size() && !d.done() && d.error().empty())
            std::abort(); // stops early only at the end of the body or on an error
    }
    out.done = d.done();
    out.error = d.error();
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2)
        return 0;
    size_t step = data[0] % 13 + 1;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

    size_t end = head_end(text);
    std::string_view head = end == std::string_view::npos ? text : text.substr(0, end);
    check_request(head);
    check_response(head);

    Decoded whole = decode(text, text.size());
    Decoded pieces = decode(text, step);
    if (whole.error.empty() && pieces.error.empty() &&
        (whole.data != pieces.data || whole.done != pieces.done ||
         (whole.done && whole.used != pieces.used)))
        std::abort();
    if (whole.error.empty() != pieces.error.empty())
        std::abort();

    for (const char* type : {"application/x-ndjson", "text/event-stream", "application/json"}) {
        core::serve::UsageTap tap(core::serve::UsageTap::Clock::now());
        tap.head(type);
        for (size_t i = 0; i < text.size(); i += step)
            tap.feed(text.substr(i, step));
        tap.finish();
    }
    return 0;
}

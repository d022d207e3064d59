#include "http/wire.hpp"

#include <doctest/doctest.h>

using namespace core::http;

namespace {

std::optional<RequestHead> req(std::string_view text) {
    std::string why;
    return parse_request_head(text, why);
}

std::string framing_error(std::string_view text) {
    std::string why;
    auto h = parse_request_head(text, why);
    REQUIRE(h);
    auto f = request_framing(*h, why);
    return f ? "" : why;
}

std::string decode(std::string_view body, size_t split, bool& done, std::string& error) {
    ChunkDecoder d;
    std::string out;
    auto take = [&](std::string_view piece) { out.append(piece); };
    size_t used = d.feed(body.substr(0, split), take);
    if (used == split && !d.done())
        used += d.feed(body.substr(split), take);
    done = d.done();
    error = d.error();
    return out;
}

} // namespace

TEST_CASE("a request head is parsed with its fields as sent") {
    auto h = req("POST /api/chat?x=1 HTTP/1.1\r\nHost: a:1\r\nContent-Length:  5 \r\n\r\n");
    REQUIRE(h);
    CHECK(h->method == "POST");
    CHECK(h->target == "/api/chat?x=1");
    CHECK(h->minor == 1);
    REQUIRE(h->fields.size() == 2);
    CHECK(*find_field(h->fields, "content-length") == "5");
    CHECK(*find_field(h->fields, "HOST") == "a:1");
    // bare LF line ends, HTTP/1.0
    auto h10 = req("GET / HTTP/1.0\nConnection: keep-alive, Upgrade\n\n");
    REQUIRE(h10);
    CHECK(h10->minor == 0);
    CHECK(has_token(h10->fields, "connection", "upgrade"));
    CHECK_FALSE(has_token(h10->fields, "connection", "close"));
}

TEST_CASE("malformed request heads are refused") {
    CHECK_FALSE(req("GET / HTTP/1.1\r\nHost : a\r\n\r\n"));   // space before colon
    CHECK_FALSE(req("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n")); // obsolete fold
    CHECK_FALSE(req("GET  / HTTP/1.1\r\n\r\n"));              // two spaces
    CHECK_FALSE(req("GET / HTTP/2.0\r\n\r\n"));               // not 1.x
    CHECK_FALSE(req("GET /a\x7f HTTP/1.1\r\n\r\n"));          // control in target
    CHECK_FALSE(req("G(T / HTTP/1.1\r\n\r\n"));               // not a token
    CHECK_FALSE(req("GET / HTTP/1.1\r\nA: b"));               // incomplete
    CHECK_FALSE(req("\r\nGET / HTTP/1.1\r\n\r\n"));           // leading blank line
    std::string many = "GET / HTTP/1.1\r\n";
    for (size_t i = 0; i <= kMaxFields; ++i)
        many += "X-" + std::to_string(i) + ": 1\r\n";
    CHECK_FALSE(req(many + "\r\n"));
}

TEST_CASE("request framing refuses what could be read two ways") {
    CHECK(framing_error("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n").empty());
    CHECK(framing_error("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n").empty());
    CHECK(framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").empty());
    CHECK_FALSE(
        framing_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
            .empty());
    CHECK_FALSE(
        framing_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n").empty());
    CHECK_FALSE(framing_error("POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n").empty());
    CHECK_FALSE(framing_error("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n")
                    .empty());
    CHECK_FALSE(framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").empty());
    CHECK_FALSE(
        framing_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").empty());
    CHECK_FALSE(framing_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").empty());
}

TEST_CASE("response heads and their framing") {
    std::string why;
    auto h = parse_response_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", why);
    REQUIRE(h);
    CHECK(h->status == 200);
    CHECK(h->reason == "OK");
    CHECK(response_framing(*h, "POST", why)->kind == Framing::Chunked);
    CHECK(response_framing(*h, "HEAD", why)->kind == Framing::Empty);
    auto no_reason = parse_response_head("HTTP/1.1 404\r\nContent-Length: 9\r\n\r\n", why);
    REQUIRE(no_reason);
    CHECK(no_reason->status == 404);
    auto f = response_framing(*no_reason, "GET", why);
    CHECK(f->kind == Framing::Length);
    CHECK(f->length == 9);
    auto close = parse_response_head("HTTP/1.0 200 OK\r\n\r\n", why);
    REQUIRE(close);
    CHECK(response_framing(*close, "GET", why)->kind == Framing::UntilClose);
    auto nc = parse_response_head("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", why);
    CHECK(response_framing(*nc, "GET", why)->kind == Framing::Empty);
    CHECK_FALSE(parse_response_head("HTTP/1.1 20 OK\r\n\r\n", why));
    CHECK_FALSE(parse_response_head("HTTP/1.1 2000 OK\r\n\r\n", why));
    CHECK_FALSE(parse_response_head("HTTP/1.1 200 O\x01K\r\n\r\n", why));
    CHECK(serialize(*h) == "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST_CASE("head_end finds the blank line, CRLF or LF") {
    CHECK(head_end("GET / HTTP/1.1\r\nA: b\r\n\r\nbody") == 24);
    CHECK(head_end("GET / HTTP/1.1\nA: b\n\nbody") == 21);
    CHECK(head_end("GET / HTTP/1.1\r\nA: b\r\n") == std::string::npos);
}

TEST_CASE("chunked bodies decode the same however they are split") {
    std::string body =
        "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for (size_t split = 0; split <= body.size(); ++split) {
        CAPTURE(split);
        ChunkDecoder d;
        std::string out;
        size_t used = 0;
        // byte by byte up to the split, then the rest at once
        for (size_t i = 0; i < split && !d.done(); ++i)
            used += d.feed(std::string_view(body).substr(i, 1),
                           [&](std::string_view p) { out.append(p); });
        if (!d.done())
            used += d.feed(std::string_view(body).substr(used),
                           [&](std::string_view p) { out.append(p); });
        CHECK(d.done());
        CHECK(d.error().empty());
        CHECK(out == "hello 0123456789");
        CHECK(body.substr(used) == "NEXT");
    }
}

TEST_CASE("broken chunked framing is an error, not a guess") {
    bool done = false;
    std::string error;
    decode("zz\r\n", 2, done, error);
    CHECK(!error.empty());
    decode("3\r\nabcX\r\n", 4, done, error);
    CHECK(error == "chunk not followed by CRLF");
    decode("FFFFFFFFFFFFFFFFFF\r\n", 5, done, error); // overflows 64 bits
    CHECK(error == "invalid chunk size");
    decode(std::string(5000, '1'), 100, done, error);
    CHECK(error == "chunk framing line too long");
    CHECK_FALSE(done);
}

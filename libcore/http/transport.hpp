#pragma once
// The HTTP transport behind http::Client, built as its own module
// (modelctl-http.so, from transport_httplib.cpp) that Client loads with
// dlopen on first use. Only commands that talk to a server then pay for
// loading cpp-httplib and the OpenSSL it links (about 2 ms of start-up,
// more than all of `modelctl record`'s own work). The module holds no
// modelctl code and throws nothing: failures come back as values.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace core::http {

enum class Failure {
    None,
    Connection,     // refused, or host unreachable
    ConnectTimeout, // no connection within the connect timeout
    Read,           // no complete response within the read timeout, or closed
    Write,          // closed while sending
    Tls,            // handshake, certificates, verification
    Canceled,       // the chunk handler asked to stop
    Other,
};

struct TransportResult {
    Failure failure = Failure::None; // None: a response came back, any status
    std::string detail;              // the library's name for the failure
    int status = 0;
    std::string body;      // the body; for a stream, only an error status's body
    bool received = false; // part of a streamed body had arrived
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual TransportResult get(const std::string& path) = 0;
    virtual TransportResult post_json(const std::string& path, const std::string& body) = 0;
    // DELETE with a JSON body (Ollama's /api/delete takes one).
    virtual TransportResult delete_json(const std::string& path, const std::string& body) = 0;
    // Hands the body of a 2xx answer to on_chunk as it arrives (false stops).
    virtual TransportResult
    post_json_stream(const std::string& path, const std::string& body,
                     const std::function<bool(std::string_view)>& on_chunk) = 0;
};

// The module's one entry point: a transport to `base` ("http://host:port")
// that sends `bearer` (when not empty) as an Authorization: Bearer header, or
// nullptr when the address is not one the library supports. The name carries
// the signature's version, so a stale module is refused rather than misused.
using TransportFactory = Transport* (*)(const char* base, int64_t connect_ms, int64_t read_ms,
                                        const char* bearer);
inline constexpr const char* kTransportFactory = "modelctl_http_transport_v3";

} // namespace core::http

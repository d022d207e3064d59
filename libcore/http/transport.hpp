#pragma once
// The HTTP transport behind http::Client, built as its own module
// (modelctl-http.so, from transport_httplib.cpp) that Client loads with
// dlopen on first use. Only commands that talk to a server then pay for
// loading cpp-httplib and the OpenSSL it links (about 2 ms of start-up,
// more than all of `modelctl record`'s own work). The module holds no
// modelctl code and throws nothing: failures come back as values.
//
// Limits (deadlines, body sizes) are the Client's: it watches each request
// from another thread and cancel()s it, and it sees every body byte as it
// arrives (decompressed), so it can stop a body that grows past its cap.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace core::http {

enum class Failure {
    None,
    Connection,     // refused, or host unreachable
    ConnectTimeout, // no connection within the connect timeout
    Read,           // the answer could not be read: closed, cut short, malformed, or timed out
    Write,          // closed while sending
    Tls,            // handshake, certificates, verification
    Canceled,       // on_body asked to stop, or cancel() was called
    Other,
};

struct TransportResult {
    Failure failure = Failure::None; // None: a whole response came back, any status
    std::string detail;              // the library's name for the failure
    int status = 0;                  // 0 until a status line was read
    std::string location;            // the Location header, for a redirect
};

// Called with the status once the headers are in, then with each piece of
// the body as it arrives; false stops the transfer (Failure::Canceled).
using BodyReceiver = std::function<bool(int status, std::string_view piece)>;

class Transport {
public:
    virtual ~Transport() = default;
    // One request: method "GET", "POST" or "DELETE"; a non-empty body goes
    // out as application/json. No single read waits longer than read_timeout.
    virtual TransportResult send(const char* method, const std::string& path,
                                 const std::string& body, std::chrono::milliseconds read_timeout,
                                 const BodyReceiver& on_body) = 0;
    // Safe from another thread: a send() in progress fails at once
    // (Failure::Read or Canceled); the next send() connects afresh.
    virtual void cancel() = 0;
};

// The module's one entry point: a transport to `base` ("http://host:port")
// that sends `bearer` (when not empty) as an Authorization: Bearer header, or
// nullptr when the address is not one the library supports. The name carries
// the signature's version, so a stale module is refused rather than misused.
using TransportFactory = Transport* (*)(const char* base, int64_t connect_ms, const char* bearer);
inline constexpr const char* kTransportFactory = "modelctl_http_transport_v4";

} // namespace core::http

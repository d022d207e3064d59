#pragma once
// The proxy of `modelctl serve`: every request goes to the upstream server
// as it came (method, target, fields, body), with Host rewritten to the
// upstream's (Ollama answers 403 to a foreign Host on loopback) and the
// hop-by-hop fields of RFC 9110 7.6.1 dropped; every answer comes back the
// same way, each piece sent on as soon as it arrives. Only a connect timeout
// and an idle timeout apply; a client that leaves cancels its upstream
// request (the connection is closed).
//
// A request that makes the server load a model (routes.hpp) is read whole
// first (at most max_body: past it the answer is 413), admitted by the
// policy (admission.hpp) and carries the keep_alive and num_ctx serve
// decides (Settings); its answer is recorded as a use (usage.hpp,
// recorder.hpp). A client's unload (empty prompt, keep_alive 0) is carried
// out by admission, as an eviction is.

#include "http/server.hpp"
#include "http/upstream.hpp"
#include "serve/admission.hpp"
#include "serve/recorder.hpp"
#include "serve/routes.hpp"
#include "serve/usage.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace core::serve {

// What serve decides for requests to one model.
struct ModelSettings {
    // The keep_alive every /api request carries (nullopt: the client's own).
    std::optional<nlohmann::json> keep_alive;
    int num_ctx = 0; // set on requests that set none; 0: the server's default
};

// One request as the log and the metrics see it.
struct RequestLog {
    std::string method;
    std::string path;
    std::string model; // "" for a route that names none
    int status = 0;    // 0: no answer was sent (the client left first)
    double ms = 0;
    Usage usage;
    std::string note; // what went wrong, or what admission did
    bool loaded = false;
    bool cancelled = false;
};

struct ProxyOptions {
    std::string kind = "ollama";  // the upstream: "ollama" or "lmstudio"
    std::string endpoint;         // the endpoint's name, for recorded uses
    std::string server;           // the upstream's address, for recorded uses
    uint64_t max_body = 64 << 20; // a model route's body, read to find the model
    std::string upstream_token;   // sent as Authorization: Bearer (LM_API_TOKEN)
    bool client_token = false;    // clients send serve's token: it is never forwarded
    http::Millis idle_timeout{300000};
    std::function<ModelSettings(const std::string& model)> settings;
    std::function<void(const RequestLog&)> log;
};

class Proxy {
public:
    Proxy(http::UpstreamPool& upstream, Admission& admission, Recorder& recorder,
          ProxyOptions options);

    void handle(http::Exchange& ex);

private:
    struct Forward; // one request on its way
    void forward(http::Exchange& ex, Forward& f);
    bool send_request(http::Exchange& ex, Forward& f, http::Socket& conn);
    void model_request(http::Exchange& ex, Forward& f);
    void restore_keep_alive(const std::string& model, const ModelSettings& s);
    void answer_error(http::Exchange& ex, Forward& f, int status, const std::string& message,
                      http::Fields extra = {});
    void finish_log(Forward& f);

    http::UpstreamPool& upstream_;
    Admission& admission_;
    Recorder& recorder_;
    ProxyOptions options_;
};

} // namespace core::serve

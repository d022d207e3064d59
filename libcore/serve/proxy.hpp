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
//
// In front of several servers (issue 18), the router (router.hpp) picks each
// request's server by the model it names, and GET /api/tags and /v1/models
// answer the servers' lists merged, in the configured order, the first of two
// same names kept (GET /api/ps too: Ollama's ps through serve shows every
// server's models). A server that does not answer is left out of a merged
// list and named in its X-Modelctl-Unreachable field; when none answers the
// answer is 502.

#include "http/server.hpp"
#include "http/upstream.hpp"
#include "serve/admission.hpp"
#include "serve/recorder.hpp"
#include "serve/router.hpp"
#include "serve/routes.hpp"
#include "serve/usage.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

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

// One server serve fronts, as the proxy reaches it.
struct Lane {
    std::string kind = "ollama"; // "ollama" or "lmstudio"
    std::string endpoint;        // the endpoint's name, for recorded uses and errors
    std::string server;          // its address, for recorded uses and errors
    std::string upstream_token;  // sent as Authorization: Bearer (LM_API_TOKEN)
    bool optional = false;       // a default endpoint that may not run (LM Studio's)
    http::UpstreamPool* pool = nullptr;
    Admission* admission = nullptr;
    std::function<ModelSettings(const std::string& model)> settings;
    // LM Studio's models, for Ollama's /api/tags and /api/ps in front of
    // several servers (each throws core::Error when it cannot tell).
    std::function<std::vector<provider::InstalledModel>()> installed;
    std::function<std::vector<provider::LoadedModel>()> loaded;
};

struct ProxyOptions {
    uint64_t max_body = 64 << 20; // a model route's body, read to find the model
    bool client_token = false;    // clients send serve's token: it is never forwarded
    http::Millis idle_timeout{300000};
    std::function<void(const RequestLog&)> log;
};

class Proxy {
public:
    // In front of `lanes` (at least one); `router` picks among several
    // (router.hpp) and lists their models for the merged /api/tags.
    Proxy(std::vector<Lane> lanes, Router* router, Recorder& recorder, ProxyOptions options);

    void handle(http::Exchange& ex);

private:
    struct Forward; // one request on its way
    void forward(http::Exchange& ex, Forward& f);
    bool send_request(http::Exchange& ex, Forward& f, http::Socket& conn);
    bool read_whole(http::Exchange& ex, Forward& f, std::string& body);
    void model_request(http::Exchange& ex, Forward& f);
    bool route(http::Exchange& ex, Forward& f, const std::string& model);
    void merged_list(http::Exchange& ex, Forward& f);
    // One request of serve's own to a lane's server (`body` JSON, "" none):
    // its status with the answer in `answer` (at most 32 MiB), or nullopt
    // with `why`.
    std::optional<int> call(const Lane& lane, const std::string& method, const std::string& target,
                            const std::string& body, std::string& answer, std::string& why);
    std::optional<nlohmann::json> get_json(const Lane& lane, const std::string& target,
                                           std::string& why);
    void restore_keep_alive(const Lane& lane, const std::string& model, const ModelSettings& s);
    void answer_error(http::Exchange& ex, Forward& f, int status, const std::string& message,
                      http::Fields extra = {});
    void finish_log(Forward& f);

    std::vector<Lane> lanes_;
    Router* router_;
    Recorder& recorder_;
    ProxyOptions options_;
};

} // namespace core::serve

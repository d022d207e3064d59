#pragma once
// `modelctl serve` as one object: the listening server (http/server.hpp),
// the proxy (proxy.hpp) in front of one or more servers (lanes: each with its
// own connections and its own admission by the policy, admission.hpp; the
// router, router.hpp, picks among them), group-committed usage
// (recorder.hpp), and a ticker (the watcher) that unloads models idle past
// their idle_timeout (serve holds their expiry, see backend.hpp), relieves
// memory pressure and looks again at what each server has installed. Routes
// under /modelctl/ and /metrics go to `local` (the app's management API); the
// rest to the proxy. It prints nothing: what happens goes to `on_event`
// (with the lane's endpoint) and the proxy's log.

#include "http/server.hpp"
#include "http/upstream.hpp"
#include "serve/access.hpp"
#include "serve/admission.hpp"
#include "serve/proxy.hpp"
#include "serve/recorder.hpp"
#include "serve/router.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace core::serve {

// One server serve fronts.
struct LaneSetup {
    Lane lane;        // its pool and admission are the Service's; its `installed`
                      // routes among several servers (Router::Server)
    std::string host; // plain HTTP; an IPv6 address in brackets
    int port = 11434;
    Backend* backend = nullptr;
    // The idle timeout serve enforces for a model (nullopt: not serve's).
    std::function<std::optional<std::chrono::seconds>(const std::string&)> idle_timeout;
};

struct ServiceOptions {
    std::vector<LaneSetup> lanes; // in the configured order; at least one
    Router::Named named;          // the endpoint the config names for a model
    http::Millis connect_timeout{5000};
    ProxyOptions proxy;
    AdmissionLimits admission;
    http::ServerLimits server;
    // The watcher: idle expiry, a fresh look at the server, memory pressure
    // (Admission::relieve); serve.interval.
    std::chrono::milliseconds tick{30000};
    std::chrono::milliseconds record_interval{1000}; // group commit
    size_t record_batch = 256;
    // Whether the watcher preloads each hour's likely models (serve.preload,
    // as the config says now): on its first look in each hour of local time.
    std::function<bool()> preload;
    Origins origins;         // CORS (OLLAMA_ORIGINS)
    bool check_host = false; // on loopback: Ollama's Host rule (host_allowed), else 403
    std::string machine;     // this machine's name, for that rule
    std::string token;       // clients must send it (Authorization: Bearer); "" none
    std::string admin_token; // for /modelctl/ and /metrics; "" the same as `token`
    std::function<bool(http::Exchange&)> local; // true when it answered
    std::function<void(const Happening&)> on_event;
    std::function<void(const std::string&)> on_error;
};

class Service {
public:
    // Listens on `listener` (from http::listen_tcp); records through `write`.
    Service(http::Socket listener, Recorder::Write write, ServiceOptions options);
    ~Service();

    // Serves until stop(): blocks.
    void run();
    // Stops accepting; answers in flight go on.
    void stop();
    // Waits up to `grace` for the answers in flight, then cuts them; flushes
    // the uses waiting to be recorded.
    void drain(std::chrono::milliseconds grace);

    size_t lanes() const { return lanes_.size(); }
    const LaneSetup& lane(size_t i) const { return lanes_[i]->setup; }
    Admission& admission(size_t i = 0) { return *lanes_[i]->admission; }
    // Where a model's requests go (the router; lane 0 when there is one).
    size_t lane_of(const std::string& model);
    Router* router() { return router_.get(); }
    Recorder& recorder() { return *recorder_; }
    size_t connections() const { return server_->connections(); }

private:
    void handle(http::Exchange& ex);
    void ticker();

    struct LaneState {
        LaneSetup setup;
        http::UpstreamPool pool;
        std::unique_ptr<Admission> admission;
    };
    ServiceOptions options_;
    std::vector<std::unique_ptr<LaneState>> lanes_;
    std::unique_ptr<Router> router_; // with more than one lane
    std::unique_ptr<Recorder> recorder_;
    std::unique_ptr<Proxy> proxy_;
    std::unique_ptr<http::Server> server_;
    std::atomic<bool> stopping_{false};
    std::mutex tick_mutex_;
    std::condition_variable tick_wake_;
    std::thread ticker_;
    double preloaded_hour_ = -1; // the start of the last hour preloaded for (epoch seconds)
};

} // namespace core::serve

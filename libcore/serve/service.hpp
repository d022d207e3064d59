#pragma once
// `modelctl serve` as one object: the listening server (http/server.hpp),
// the proxy (proxy.hpp) in front of one upstream, admission by the policy
// (admission.hpp), group-committed usage (recorder.hpp), and a ticker (the
// watcher) that unloads models idle past their idle_timeout (serve holds
// their expiry, see backend.hpp) and relieves memory pressure. Routes under /modelctl/ and /metrics
// go to `local` (the app's management API); the rest to the proxy. It prints nothing: what happens
// goes to `on_request` and `on_event`.

#include "http/server.hpp"
#include "http/upstream.hpp"
#include "serve/access.hpp"
#include "serve/admission.hpp"
#include "serve/proxy.hpp"
#include "serve/recorder.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace core::serve {

struct ServiceOptions {
    std::string upstream_host; // plain HTTP
    int upstream_port = 11434;
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
    // The idle timeout serve enforces for a model (nullopt: not serve's).
    std::function<std::optional<std::chrono::seconds>(const std::string&)> idle_timeout;
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
    Service(http::Socket listener, Backend& backend, Recorder::Write write, ServiceOptions options);
    ~Service();

    // Serves until stop(): blocks.
    void run();
    // Stops accepting; answers in flight go on.
    void stop();
    // Waits up to `grace` for the answers in flight, then cuts them; flushes
    // the uses waiting to be recorded.
    void drain(std::chrono::milliseconds grace);

    Admission& admission() { return *admission_; }
    Recorder& recorder() { return *recorder_; }
    size_t connections() const { return server_->connections(); }

private:
    void handle(http::Exchange& ex);
    void ticker();

    ServiceOptions options_;
    http::UpstreamPool pool_;
    std::unique_ptr<Admission> admission_;
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

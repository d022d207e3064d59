#include "serve/service.hpp"

#include "operations/planning.hpp"
#include "operations/preload.hpp"
#include "util/timestamp.hpp"

#include <cmath>

namespace core::serve {

Service::Service(http::Socket listener, Recorder::Write write, ServiceOptions options)
    : options_(std::move(options)) {
    std::vector<Lane> lanes;
    std::vector<Router::Server> servers;
    for (auto& setup : options_.lanes) {
        auto state = std::unique_ptr<LaneState>(new LaneState{
            setup, http::UpstreamPool(setup.host, setup.port, options_.connect_timeout), {}});
        // Each happening says which server it happened on.
        auto on_event = [this, endpoint = setup.lane.endpoint,
                         server = setup.lane.server](Happening h) {
            h.endpoint = endpoint;
            h.server = server;
            if (options_.on_event)
                options_.on_event(h);
        };
        state->admission =
            std::make_unique<Admission>(*setup.backend, options_.admission, on_event);
        Lane lane = setup.lane;
        lane.pool = &state->pool;
        lane.admission = state->admission.get();
        lanes.push_back(lane);
        servers.push_back({lane.endpoint, lane.kind, lane.optional, lane.installed});
        lanes_.push_back(std::move(state));
    }
    if (lanes_.size() > 1)
        router_ = std::make_unique<Router>(std::move(servers), options_.named);
    recorder_ = std::make_unique<Recorder>(std::move(write), options_.record_interval,
                                           options_.record_batch, options_.on_error);
    proxy_ = std::make_unique<Proxy>(std::move(lanes), router_.get(), *recorder_, options_.proxy);
    server_ = std::make_unique<http::Server>(
        std::move(listener), [this](http::Exchange& ex) { handle(ex); }, options_.server);
    for (auto& l : lanes_)
        l->admission->refresh();
    if (router_)
        router_->look();
}

size_t Service::lane_of(const std::string& model) {
    if (!router_)
        return 0;
    return router_->route(Dialect::OpenAI, model).value_or(0);
}

void Service::handle(http::Exchange& ex) {
    const auto& rq = ex.request();
    auto path = path_of(rq.target);
    constexpr const char* kJson = "application/json; charset=utf-8";
    if (const std::string* origin = http::find_field(rq.fields, "origin")) {
        if (!options_.origins.allowed(*origin)) {
            ex.reply(403, kJson,
                     R"J({"error":"origin not allowed (OLLAMA_ORIGINS lists the allowed ones)"})J");
            return;
        }
        if (rq.method == "OPTIONS" &&
            http::find_field(rq.fields, "access-control-request-method")) {
            ex.reply(204, "", "", options_.origins.preflight_fields(*origin));
            return;
        }
        ex.add_answer_fields(options_.origins.answer_fields(*origin));
    }
    if (options_.check_host) {
        const std::string* host = http::find_field(rq.fields, "host");
        if (!host_allowed(host ? *host : std::string_view(), options_.machine)) {
            ex.reply(
                403, kJson,
                R"({"error":"host not allowed: serve on loopback answers only names of this machine, as Ollama does"})");
            return;
        }
    }
    bool management = path.substr(0, 10) == "/modelctl/" || path == "/metrics";
    const std::string& token =
        management && !options_.admin_token.empty() ? options_.admin_token : options_.token;
    if (!token.empty() && !bearer_matches(http::find_field(rq.fields, "authorization"), token)) {
        ex.reply(401, kJson, R"({"error":"unauthorized: send the token as Authorization: Bearer"})",
                 {{"WWW-Authenticate", "Bearer realm=\"modelctl\""}});
        return;
    }
    if (management && options_.local && options_.local(ex))
        return;
    proxy_->handle(ex);
}

Service::~Service() {
    stop();
    if (ticker_.joinable())
        ticker_.join();
}

void Service::run() {
    ticker_ = std::thread([this] { ticker(); });
    server_->run();
}

void Service::stop() {
    {
        std::lock_guard lock(tick_mutex_);
        stopping_ = true;
    }
    tick_wake_.notify_all();
    server_->stop();
}

void Service::drain(std::chrono::milliseconds grace) {
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (server_->connections() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (server_->connections() > 0)
        server_->abort();
    recorder_->flush();
}

void Service::ticker() {
    std::unique_lock lock(tick_mutex_);
    while (!stopping_) {
        tick_wake_.wait_for(lock, options_.tick, [this] { return stopping_.load(); });
        if (stopping_)
            break;
        lock.unlock();
        std::optional<double> preload_hour;
        if (options_.preload && options_.preload()) {
            double now = operations::epoch_seconds(util::now());
            double offset = static_cast<double>(operations::utc_offset_at(now));
            double hour = std::floor((now + offset) / 3600) * 3600 - offset;
            if (hour != preloaded_hour_)
                preload_hour = preloaded_hour_ = hour;
        }
        // One server's relief per look: the memory it frees shows in the
        // next look's figures, which then say whether another must give some.
        bool relieved = false;
        for (auto& l : lanes_) {
            if (l->setup.idle_timeout)
                l->admission->expire(l->setup.idle_timeout);
            else
                l->admission->refresh();
            if (!relieved)
                relieved = l->admission->relieve() > 0;
            if (preload_hour)
                l->admission->preload(*preload_hour);
        }
        if (router_)
            router_->look();
        lock.lock();
    }
}

} // namespace core::serve

#include "cmd_serve.hpp"

#include "cmd_status.hpp"
#include "http/endpoint.hpp"
#include "http/socket.hpp"
#include "metrics/prometheus.hpp"
#include "operations/planning.hpp"
#include "registry/registry.hpp"
#include "serve/backend.hpp"
#include "serve/events.hpp"
#include "serve/hooks.hpp"
#include "serve/service.hpp"
#include "serve/telemetry.hpp"
#include "serve_api.hpp"
#include "store/atomicfile.hpp"
#include "util/interrupt.hpp"
#include "util/notify.hpp"
#include "util/text.hpp"

#include <charconv>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unistd.h>

namespace modelctl {

namespace {

using namespace std::chrono_literals;

bool any_address(const std::string& host) {
    return host.empty() || host == "0.0.0.0" || host == "::";
}

// Whether the proxy at listen_host:port would reach itself through `upstream`.
bool loops(const std::string& listen_host, int port, const core::http::Endpoint& upstream) {
    if (port == 0 || upstream.port != port)
        return false;
    return upstream.host == listen_host || any_address(listen_host) ||
           (core::http::is_loopback(upstream.host) && core::http::is_loopback(listen_host)) ||
           any_address(upstream.host);
}

std::string log_line(const core::serve::RequestLog& r) {
    std::string s = r.method + " " + core::util::printable(r.path);
    if (!r.model.empty())
        s += " model=" + core::util::printable(r.model);
    s += " status=" + (r.status ? std::to_string(r.status) : std::string("-"));
    char ms[32];
    std::snprintf(ms, sizeof ms, " ms=%.1f", r.ms);
    s += ms;
    if (r.usage.tokens_in || r.usage.tokens_out)
        s += " tokens=" + std::to_string(r.usage.tokens_in.value_or(0)) + "/" +
             std::to_string(r.usage.tokens_out.value_or(0));
    if (r.loaded)
        s += " loaded";
    if (r.cancelled)
        s += " cancelled";
    if (!r.note.empty())
        s += " (" + core::util::printable(r.note) + ")";
    return s;
}

// The settings serve takes once, at start, whose value differs between
// `before` and `now`, as "key, key" (empty: none).
std::string restart_only_changes(const core::config::Config& before,
                                 const core::config::Config& now) {
    static const std::set<std::string> kAtStart = {"host",
                                                   "endpoint",
                                                   "timeout",
                                                   "serve.listen",
                                                   "serve.max_body",
                                                   "serve.max_queue",
                                                   "serve.queue_timeout",
                                                   "serve.token_env",
                                                   "serve.admin_token_env",
                                                   "serve.interval"};
    std::map<std::string, std::string> old;
    for (const auto& s : before.settings)
        old[s.key] = s.value;
    std::string out;
    for (const auto& s : now.settings)
        if (kAtStart.count(s.key) && old[s.key] != s.value)
            out += (out.empty() ? "" : ", ") + s.key;
    auto urls = [](const core::config::Config& c) {
        std::vector<std::string> v;
        for (const auto& ep : core::operations::resolve_endpoints(c))
            v.push_back(ep.name + "=" + ep.provider + "@" + ep.address.url() + "#" + ep.token_env);
        return v;
    };
    if (urls(before) != urls(now))
        out += (out.empty() ? "" : ", ") + std::string("endpoints");
    return out;
}

} // namespace

std::string serve_metrics_text(const core::serve::Telemetry::Snapshot& t,
                               const core::serve::Admission::Snapshot& a,
                               const core::serve::Recorder::Counts& r) {
    core::metrics::Exposition e;
    e.family("modelctl_serve_requests_total", "counter",
             "Requests through serve, by model (\"-\": none), route and status");
    for (const auto& [k, n] : t.requests)
        e.sample({{"model", std::get<0>(k)}, {"route", std::get<1>(k)}, {"status", std::get<2>(k)}},
                 static_cast<double>(n));
    auto histograms = [&](const char* name, const char* help, const char* label,
                          const std::map<std::string, core::serve::Histogram>& hs) {
        e.family(name, "histogram", help);
        for (const auto& [key, h] : hs) {
            uint64_t cumulative = 0;
            for (size_t i = 0; i < core::serve::kSecondsBuckets.size(); ++i) {
                cumulative += h.buckets[i];
                e.sample({{label, key},
                          {"le", core::metrics::format_value(core::serve::kSecondsBuckets[i])}},
                         static_cast<double>(cumulative), "_bucket");
            }
            e.sample({{label, key}, {"le", "+Inf"}}, static_cast<double>(h.count), "_bucket");
            e.sample({{label, key}}, h.sum, "_sum");
            e.sample({{label, key}}, static_cast<double>(h.count), "_count");
        }
    };
    histograms("modelctl_serve_request_duration_seconds",
               "Time from a request to the end of its answer, by route", "route", t.latency);
    histograms("modelctl_serve_time_to_first_token_seconds",
               "Time from a streamed request to its first piece of text, by model", "model",
               t.ttft);
    e.family("modelctl_serve_tokens_total", "counter",
             "Tokens the server counted, by model and direction (in: prompt, out: generated)");
    for (const auto& [k, n] : t.tokens)
        e.sample({{"model", k.first}, {"direction", k.second}}, static_cast<double>(n));
    e.family("modelctl_serve_admission_total", "counter",
             "What admission did, by model: load, evict (for a load, by the policy), expire "
             "(idle past its idle_timeout), unload (a client asked), refuse, fail");
    for (const auto& [k, n] : t.happenings)
        e.sample({{"action", k.first}, {"model", k.second}}, static_cast<double>(n));
    e.family("modelctl_serve_queue_depth", "gauge", "Requests waiting for a model to be loaded");
    e.sample({}, static_cast<double>(a.queued));
    e.family("modelctl_serve_in_flight", "gauge", "Requests being answered, by model");
    for (const auto& [m, n] : a.in_flight)
        e.sample({{"model", m}}, n);
    e.family("modelctl_serve_resident", "gauge", "Models in memory as serve last saw them");
    for (const auto& m : a.resident)
        e.sample({{"model", m}}, 1);
    if (!a.pressure.empty()) {
        e.family("modelctl_serve_memory_pressure", "gauge",
                 "Memory pressure from other programs: 0 ok, 1 high (a device under its "
                 "min_free), 2 critical (under half of it)");
        e.sample({}, a.pressure == "critical" ? 2 : a.pressure == "high" ? 1 : 0);
    }
    e.family("modelctl_serve_load_failures", "gauge",
             "Failed loads in a row of a model serve is backing off from, by model");
    for (const auto& [m, f] : a.failing)
        e.sample({{"model", m}}, f.failures);
    e.family("modelctl_serve_uses_recorded_total", "counter", "Uses written to the store");
    e.sample({}, static_cast<double>(r.recorded));
    e.family("modelctl_serve_store_writes_total", "counter",
             "Store transactions that wrote uses (group commit)");
    e.sample({}, static_cast<double>(r.writes));
    return e.text();
}

nlohmann::json serve_state_json(const core::serve::Admission::Snapshot& a) {
    nlohmann::json failing = nlohmann::json::array();
    for (const auto& [m, f] : a.failing)
        failing.push_back({{"model", m},
                           {"failures", f.failures},
                           {"retry_in_seconds", std::round(f.retry_in * 10) / 10},
                           {"error", f.error}});
    nlohmann::json in_flight = nlohmann::json::object();
    for (const auto& [m, n] : a.in_flight)
        in_flight[m] = n;
    return {{"pressure", a.pressure.empty() ? nlohmann::json(nullptr)
                                            : nlohmann::json{{"level", a.pressure},
                                                             {"reason", a.pressure_reason}}},
            {"failing", failing},
            {"in_flight", in_flight},
            {"queued", a.queued}};
}

namespace {

// The lanes' admissions as one, for /metrics: counts added, sets joined,
// the worst pressure.
core::serve::Admission::Snapshot merged(const std::vector<core::serve::Admission::Snapshot>& all) {
    auto rank = [](const std::string& level) {
        return level == "critical" ? 3 : level == "high" ? 2 : level == "ok" ? 1 : 0;
    };
    core::serve::Admission::Snapshot out;
    for (const auto& a : all) {
        for (const auto& [m, n] : a.in_flight)
            out.in_flight[m] += n;
        out.resident.insert(a.resident.begin(), a.resident.end());
        out.queued += a.queued;
        out.failing.insert(a.failing.begin(), a.failing.end());
        if (rank(a.pressure) > rank(out.pressure)) {
            out.pressure = a.pressure;
            out.pressure_reason = a.pressure_reason;
        }
    }
    return out;
}

// serve's state of each server in the status document: in its `endpoints`
// entry, and at the top level for the endpoint the top level describes.
void add_serve_state(nlohmann::ordered_json& doc, core::serve::Service& service,
                     const std::string& primary) {
    for (size_t i = 0; i < service.lanes(); ++i) {
        auto state = serve_state_json(service.admission(i).snapshot());
        const auto& name = service.lane(i).lane.endpoint;
        if (doc.contains("endpoints"))
            for (auto& entry : doc["endpoints"])
                if (entry.value("name", "") == name)
                    entry["serve"] = state;
        if (name == primary)
            doc["serve"] = state;
    }
}

} // namespace

std::pair<std::string, int> parse_listen(const std::string& text) {
    auto bad = [&] {
        return core::Error(core::ErrorKind::Usage,
                           "--listen '" + core::util::printable(text) + "' is not HOST:PORT",
                           "e.g. 127.0.0.1:11435, [::1]:11435, or 127.0.0.1:0 for any free port");
    };
    size_t colon = text.rfind(':');
    if (colon == std::string::npos)
        throw bad();
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string::npos)
        throw bad(); // an IPv6 address needs its brackets
    int port = -1;
    auto [p, ec] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), port);
    if (ec != std::errc() || p != text.data() + text.size() || port < 0 || port > 65535)
        throw bad();
    return {host, port};
}

void setup_serve(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<ServeOptions>();
    auto* sub = app.add_subcommand(
        "serve", "Stand in front of the model server: load by the policy, record every use");
    sub->add_option("--listen", opts->listen,
                    "Address to listen on, HOST:PORT (default: serve.listen, 127.0.0.1:11435)");
    sub->add_option("--port-file", opts->port_file, "Write the port listened on to this file");
    sub->callback([&ctx, opts] { ctx.exit_code = run_serve(ctx, *opts); });
}

namespace {

// One server serve fronts, and what stands behind it.
struct Upstream {
    Endpoint endpoint;
    std::unique_ptr<core::provider::Provider> server; // used within admission decisions
    std::unique_ptr<core::provider::Provider> lister; // the router's looks, at any time
    core::store::Store store;
    std::unique_ptr<core::serve::ServerBackend> backend;
};

// The endpoints serve fronts: those status goes through (every one, unless
// --endpoint or the config names one), each reached over plain HTTP. The
// default LM Studio is left out when nothing answers on its port.
std::vector<Endpoint> fronted(Context& ctx, const std::string& host, int port,
                              const std::function<void(const std::string&)>& say) {
    std::vector<Endpoint> out;
    for (const auto& e : ctx.endpoints_to_visit()) {
        if (e.address.scheme != "http" || !e.address.base_path.empty())
            throw core::Error(core::ErrorKind::Usage,
                              "serve reaches its servers over plain HTTP at host:port, not " +
                                  e.address.url() + " (endpoint " + e.name + ")",
                              "run serve on the server's machine, in front of its local address");
        if (loops(host, port, e.address))
            throw core::Error(core::ErrorKind::Usage,
                              "serve would listen on " + ctx.config().serve_listen +
                                  ", the address of the server it stands in front of (" +
                                  e.address.url() + "): every request would come back to it",
                              "point OLLAMA_HOST (or the endpoint's url) at the server itself, "
                              "and --listen elsewhere");
        if (e.optional) {
            try {
                ctx.provider(e)->version();
            } catch (const core::Error& err) {
                if (ctx.absent(e, err)) {
                    if (ctx.global.verbose > 0)
                        say("endpoint " + e.name + " left out: nothing answers at " +
                            e.address.url() + " (serve fronts it once restarted with it running)");
                    continue;
                }
            }
        }
        out.push_back(e);
    }
    return out;
}

} // namespace

int run_serve(Context& ctx, const ServeOptions& o) {
    core::util::install_hangup_handler(); // SIGHUP reloads the config, as daemons do
    std::map<std::string, core::config::Flag> flags;
    if (!o.listen.empty())
        flags["serve.listen"] = {"--listen", o.listen};
    const auto& cfg = ctx.config(flags);
    auto [host, port] = parse_listen(cfg.serve_listen);
    std::mutex out_mutex;
    auto say = [&](const std::string& line) {
        std::lock_guard lock(out_mutex);
        std::cerr << "modelctl serve: " << line << "\n" << std::flush;
    };
    bool verbose = ctx.global.verbose > 0;
    auto endpoints = fronted(ctx, host, port, say);
    // Off loopback anyone on the network could use the server through serve:
    // a token is required then.
    auto secret = [&](const std::string& var) {
        return var.empty() ? std::string() : ctx.env.get_nonempty(var).value_or("");
    };
    std::string token = secret(cfg.serve_token_env);
    std::string admin_token = secret(cfg.serve_admin_token_env);
    if (!core::http::is_loopback(host) && token.empty())
        throw core::Error(core::ErrorKind::Usage,
                          "serve would listen on " + cfg.serve_listen +
                              ", beyond this machine, without a token",
                          "put a token in $" +
                              (cfg.serve_token_env.empty() ? std::string("MODELCTL_SERVE_TOKEN")
                                                           : cfg.serve_token_env) +
                              " (serve.token_env); clients send it as Authorization: Bearer");
    int bound = 0;
    std::string why;
    core::http::Socket listener = core::http::listen_tcp(host, port, bound, why);
    if (!listener.valid())
        throw core::Error(
            core::ErrorKind::Failed, "cannot listen on " + cfg.serve_listen + ": " + why,
            port ? "is another serve already there? --listen HOST:0 picks a free port" : "");

    auto record_store = ctx.store(endpoints.front());
    core::serve::Telemetry telemetry;
    core::serve::ServiceOptions so;
    std::deque<Upstream> upstreams; // stable addresses: the lanes point into them
    for (const auto& ep : endpoints) {
        Upstream& u = upstreams.emplace_back(
            Upstream{ep, ctx.provider(ep), ctx.provider(ep), ctx.store(ep), nullptr});
        const Endpoint& e = u.endpoint;
        // Memory pressure is this machine's: only for a server on it whose
        // memory the config does not declare (memory.vram / memory.ram, or
        // the endpoint's: a server elsewhere).
        core::serve::PressureFn pressure;
        if (core::operations::is_local(e) && !cfg.vram && !cfg.ram && !e.vram && !e.ram)
            pressure = [&ctx]() -> std::optional<core::resources::Pressure> {
                return core::resources::pressure(ctx.probe(), ctx.config());
            };
        u.backend = std::make_unique<core::serve::ServerBackend>(
            *u.server, u.store, [&ctx]() -> const core::config::Config& { return ctx.config(); },
            ctx.budget_fn(e), pressure);
        // keep_alive, idle_timeout and num_ctx come from the config alone (the
        // store adds only pins and priorities, which the plans read
        // themselves), as it is now: SIGHUP reads it again.
        auto effective = [&ctx, kind = e.provider](const std::string& model) {
            return core::operations::effective_settings(model, kind, ctx.config(), nullptr);
        };
        core::serve::LaneSetup lane;
        lane.host = e.address.host.find(':') != std::string::npos ? "[" + e.address.host + "]"
                                                                  : e.address.host;
        lane.port = e.address.port;
        lane.backend = u.backend.get();
        lane.lane.kind = e.provider;
        lane.lane.endpoint = e.name;
        lane.lane.server = e.address.url();
        lane.lane.optional = e.optional;
        if (!e.token_env.empty())
            lane.lane.upstream_token = ctx.env.get_nonempty(e.token_env).value_or("");
        lane.lane.settings = [effective, kind = e.provider](const std::string& model) {
            auto eff = effective(model);
            core::serve::ModelSettings s;
            if (kind == "ollama")
                s.keep_alive = core::serve::serve_keep_alive(eff).json_seconds();
            if (eff.num_ctx_own)
                s.num_ctx = eff.num_ctx;
            return s;
        };
        lane.idle_timeout =
            [effective](const std::string& model) -> std::optional<std::chrono::seconds> {
            auto eff = effective(model);
            if (eff.keep_alive) // the server's timer, set by the config's keep_alive
                return std::nullopt;
            return std::chrono::duration_cast<std::chrono::seconds>(eff.idle_timeout);
        };
        lane.lane.installed = [lister = u.lister.get()] { return lister->installed(); };
        lane.lane.loaded = [lister = u.lister.get()] { return lister->loaded(); };
        so.lanes.push_back(std::move(lane));
    }
    so.named = [&ctx](const std::string& kind, const std::string& model) {
        const auto* entry = core::operations::config_entry(
            ctx.config(), kind, core::provider::canonical_name(kind, model));
        return entry ? entry->endpoint : std::nullopt;
    };
    so.proxy.max_body = cfg.serve_max_body;
    so.proxy.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.timeout);
    so.proxy.log = [&](const core::serve::RequestLog& r) {
        telemetry.request(r);
        if (verbose)
            say(log_line(r));
    };
    so.proxy.client_token = !token.empty() || !admin_token.empty();
    so.token = token;
    so.admin_token = admin_token;
    so.origins = core::serve::Origins(ctx.env.get_nonempty("OLLAMA_ORIGINS").value_or(""));
    so.check_host =
        core::http::is_loopback(host); // as Ollama on loopback: no DNS rebinding through serve
    char machine[256] = {};
    if (gethostname(machine, sizeof machine - 1) == 0)
        so.machine = machine;
    so.tick = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.serve_interval);
    so.preload = [&ctx] { return ctx.config().serve_preload; };
    so.admission.queue_max = cfg.serve_max_queue;
    so.admission.wait_timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(cfg.serve_queue_timeout);
    core::serve::Service* service_ptr = nullptr;
    std::optional<ServeApi> api;
    std::mutex status_mutex;
    so.local = [&](core::http::Exchange& ex) {
        const auto& rq = ex.request();
        auto path = core::serve::path_of(rq.target);
        constexpr const char* kJson = "application/json; charset=utf-8";
        if (api && api->handle(ex))
            return true;
        if (rq.method != "GET" && rq.method != "HEAD")
            return false;
        if (path == "/metrics" && service_ptr) {
            std::vector<core::serve::Admission::Snapshot> lanes;
            for (size_t i = 0; i < service_ptr->lanes(); ++i)
                lanes.push_back(service_ptr->admission(i).snapshot());
            ex.reply(200, "text/plain; version=0.0.4; charset=utf-8",
                     serve_metrics_text(telemetry.snapshot(), merged(lanes),
                                        service_ptr->recorder().counts()));
            return true;
        }
        if (path == "/modelctl/v1/status") {
            std::lock_guard lock(status_mutex);
            try {
                bool all = rq.target.find("all=1") != std::string::npos ||
                           rq.target.find("all=true") != std::string::npos;
                auto doc = status_json(ctx, all);
                if (service_ptr)
                    add_serve_state(doc, *service_ptr, ctx.endpoint().name);
                ex.reply(200, kJson,
                         doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            } catch (const core::Error& err) {
                ex.reply(502, kJson,
                         nlohmann::json{{"error", err.what()}}.dump(
                             -1, ' ', false, nlohmann::json::error_handler_t::replace));
            }
            return true;
        }
        return false;
    };
    core::serve::EventHub events;
    std::vector<std::string> hook_env;
    for (const auto& [name, value] : ctx.env.vars())
        hook_env.push_back(name + "=" + value);
    core::serve::Hooks hooks(std::move(hook_env), ctx.env.get("PATH").value_or("/usr/bin:/bin"),
                             [&](const std::string& text) { say("error: " + text); });
    so.on_event = [&](const core::serve::Happening& h) {
        telemetry.happening(h);
        auto published = events.publish(h);
        hooks.fire(ctx.config().hooks, h, published.id, event_line(published));
        bool error = h.type == "refuse" || h.type == "fail";
        std::string where = upstreams.size() > 1 && !h.endpoint.empty() ? " on " + h.endpoint : "";
        if (error || verbose)
            say(h.type + (h.model.empty() ? "" : " " + core::util::printable(h.model)) + where +
                (h.reason.empty() ? ""
                                  : (h.model.empty() && where.empty() ? " " : ": ") +
                                        core::util::printable(h.reason)));
    };
    so.on_error = [&](const std::string& text) { say("error: " + core::util::printable(text)); };

    auto write = [&record_store](const std::vector<core::store::Event>& uses) {
        core::util::CleanupScope record; // recorded even while stopping
        core::registry::record_uses(record_store, uses);
    };
    core::serve::Service service(std::move(listener), write, so);
    service_ptr = &service;
    std::vector<ServeApi::Lane> api_lanes;
    for (size_t i = 0; i < upstreams.size(); ++i)
        api_lanes.push_back({upstreams[i].endpoint, *upstreams[i].server, upstreams[i].store,
                             service.admission(i)});
    api.emplace(ServeApi{ctx, std::move(api_lanes),
                         [&service](const std::string& model) { return service.lane_of(model); },
                         events, so.on_event, [] { return core::util::interrupt_count() > 0; }});
    if (!o.port_file.empty())
        core::store::write_atomically(o.port_file, std::to_string(bound) + "\n");
    std::string in_front;
    for (const auto& u : upstreams)
        in_front += (in_front.empty() ? "" : ", ") + u.endpoint.provider + " at " +
                    u.endpoint.address.url() +
                    (upstreams.size() > 1 ? " (" + u.endpoint.name + ")" : "");
    std::string listening = "listening on http://" +
                            (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                            std::to_string(bound) + ", in front of " + in_front;
    if (!ctx.global.quiet)
        say(listening);
    // Under systemd with Type=notify: ready once the port is open (and written).
    std::string notify_socket = ctx.env.get_nonempty("NOTIFY_SOCKET").value_or("");
    auto notify = [&](const std::string& state) {
        std::string problem;
        if (!core::util::notify_service_manager(notify_socket, state, problem))
            say("error: cannot tell the service manager " + state.substr(0, state.find('\n')) +
                ": " + problem);
    };
    notify("READY=1\nSTATUS=" + listening);

    // SIGHUP: the config read again. Models' settings, the budget and the
    // policy apply to the next decision; what was set up at start (the
    // listening address, the server, tokens, serve's limits) on a restart.
    auto reload = [&] {
        notify("RELOADING=1");
        const auto& before = ctx.config();
        try {
            const auto& now = ctx.reload_config();
            auto later = restart_only_changes(before, now);
            say("config reloaded from " + core::util::printable(now.file.string()) +
                (later.empty() ? "" : "; on restart only: " + later));
        } catch (const core::Error& err) {
            say(std::string("error: config not reloaded, the running one kept: ") + err.what());
        }
        notify("READY=1\nSTATUS=" + listening);
    };
    std::thread runner([&] { service.run(); });
    int hangups = core::util::hangup_count();
    while (core::util::interrupt_count() == 0) {
        std::this_thread::sleep_for(50ms);
        if (int h = core::util::hangup_count(); h != hangups) {
            hangups = h;
            reload();
        }
    }
    if (!ctx.global.quiet)
        say("stopping: answers in flight may take " +
            std::to_string(static_cast<long>(ctx.config().serve_grace.count())) + "s");
    notify("STOPPING=1");
    events.close(); // event streams end now, not at the grace period's end
    service.stop();
    service.drain(std::chrono::duration_cast<std::chrono::milliseconds>(ctx.config().serve_grace));
    runner.join();
    auto counts = service.recorder().counts();
    if (verbose)
        say("recorded " + std::to_string(counts.recorded) + " uses in " +
            std::to_string(counts.writes) + " writes");
    return 0;
}

} // namespace modelctl

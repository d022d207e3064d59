#include "serve_api.hpp"

#include "cmd_gc.hpp"
#include "cmd_unload.hpp"
#include "errors.hpp"
#include "load_plan.hpp"
#include "operations/load.hpp"
#include "output.hpp"
#include "registry/registry.hpp"
#include "serve/backend.hpp"
#include "serve/routes.hpp"
#include "store/lockfile.hpp"
#include "util/duration.hpp"
#include "util/text.hpp"

#include <charconv>

namespace modelctl {

using json = nlohmann::ordered_json;
using core::Error;
using core::ErrorKind;

namespace {

constexpr const char* kJson = "application/json; charset=utf-8";
constexpr size_t kMaxBody = 1 << 20; // a list of model names, not an upload

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void answer(core::http::Exchange& ex, int status, const json& doc) {
    ex.reply(status, kJson, dump(doc) + "\n");
}

// A body over kMaxBody: a usage error, answered 413 as the proxy answers one.
struct BodyTooLarge : Error {
    using Error::Error;
};

void answer_error(core::http::Exchange& ex, const std::exception& e) {
    auto* ce = dynamic_cast<const Error*>(&e);
    int status = dynamic_cast<const BodyTooLarge*>(&e)
                     ? 413
                     : http_status_for(ce ? ce->kind() : ErrorKind::Failed);
    answer(ex, status, {{"schema", "modelctl.error/v1"}, {"error", error_json(e)}});
}

Error usage(const std::string& message, const std::string& hint = {}) {
    return Error(ErrorKind::Usage, message, hint);
}

// The request's JSON object: at most kMaxBody bytes; empty means {}. Only
// the fields in `known` are taken: a misspelt one is refused, not ignored.
nlohmann::json read_object(core::http::Exchange& ex, std::initializer_list<const char*> known) {
    std::string body;
    bool too_big = false;
    bool whole = ex.read_body([&](std::string_view piece) {
        if (body.size() + piece.size() > kMaxBody) {
            too_big = true;
            return false;
        }
        body.append(piece);
        return true;
    });
    if (too_big)
        throw BodyTooLarge(ErrorKind::Usage,
                           "the request body is over " + std::to_string(kMaxBody) + " bytes",
                           "a management request names models, not data");
    if (!whole)
        throw Error(ErrorKind::Interrupted, "the request body ended early");
    if (body.find_first_not_of(" \t\r\n") == std::string::npos)
        return nlohmann::json::object();
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw usage("the request body is not a JSON object");
    for (const auto& [key, value] : j.items()) {
        bool ok = false;
        for (const char* k : known)
            ok = ok || key == k;
        if (!ok) {
            std::string names;
            for (const char* k : known)
                names += std::string(names.empty() ? "" : ", ") + k;
            throw usage("unknown field '" + core::util::printable(key) + "'", "known: " + names);
        }
    }
    return j;
}

bool flag(const nlohmann::json& body, const char* key) {
    if (!body.contains(key))
        return false;
    if (!body[key].is_boolean())
        throw usage(std::string("'") + key + "' must be true or false");
    return body[key].get<bool>();
}

std::vector<std::string> names(const nlohmann::json& body) {
    std::vector<std::string> out;
    if (!body.contains("models"))
        return out;
    if (!body["models"].is_array())
        throw usage("'models' must be a list of model names");
    for (const auto& m : body["models"]) {
        if (!m.is_string() || m.get<std::string>().empty())
            throw usage("'models' must be a list of model names");
        out.push_back(m.get<std::string>());
    }
    return out;
}

} // namespace

std::string event_line(const core::serve::EventHub::Event& e) {
    return dump({{"id", e.id},
                 {"time", core::util::format_rfc3339(e.time)},
                 {"type", e.what.type},
                 {"model", e.what.model},
                 {"reason", e.what.reason},
                 {"endpoint", e.what.endpoint},
                 {"server", e.what.server}});
}

int http_status_for(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::Usage:
        return 400;
    case ErrorKind::NotFound:
        return 404;
    case ErrorKind::Refused:
    case ErrorKind::OutOfMemory:
        return 409;
    case ErrorKind::Busy:
    case ErrorKind::Interrupted:
        return 503;
    case ErrorKind::Unreachable:
    case ErrorKind::Protocol:
    case ErrorKind::Unauthorized: // the server refused serve's token: a bad gateway
        return 502;
    case ErrorKind::Failed:
    case ErrorKind::Store:
        return 500;
    }
    return 500;
}

bool ServeApi::handle(core::http::Exchange& ex) {
    const auto& rq = ex.request();
    std::string path(core::serve::path_of(rq.target));
    bool post = rq.method == "POST";
    try {
        if (path == "/modelctl/v1/events" && rq.method == "GET") {
            stream_events(ex);
        } else if (path == "/modelctl/v1/load" && post) {
            load(ex, read_object(ex, {"models", "dry_run", "no_evict", "endpoint"}));
        } else if (path == "/modelctl/v1/unload" && post) {
            unload(ex, read_object(ex, {"models", "all", "endpoint"}));
        } else if (path == "/modelctl/v1/gc" && post) {
            gc(ex, read_object(ex, {"idle", "dry_run", "endpoint"}));
        } else if (path == "/modelctl/v1/load" || path == "/modelctl/v1/unload" ||
                   path == "/modelctl/v1/gc" || path == "/modelctl/v1/events") {
            answer(ex, 405,
                   {{"schema", "modelctl.error/v1"},
                    {"error",
                     error_json(usage(rq.method + " is not allowed on " + path,
                                      path == "/modelctl/v1/events" ? "GET it" : "POST to it"))}});
        } else {
            return false;
        }
    } catch (const std::exception& e) {
        if (!ex.responded())
            answer_error(ex, e);
    }
    return true;
}

// The models with requests in flight: never a victim.
static std::set<std::string> busy(const core::serve::Admission& admission) {
    std::set<std::string> out;
    for (const auto& [model, n] : admission.snapshot().in_flight)
        if (n > 0)
            out.insert(model);
    return out;
}

std::optional<size_t> ServeApi::named_lane(const nlohmann::json& body) const {
    if (!body.contains("endpoint"))
        return std::nullopt;
    std::string known;
    for (size_t i = 0; i < lanes.size(); ++i) {
        if (body["endpoint"].is_string() && body["endpoint"] == lanes[i].endpoint.name)
            return i;
        known += (known.empty() ? "" : ", ") + lanes[i].endpoint.name;
    }
    throw usage("'endpoint' must name an endpoint serve stands in front of", "they are " + known);
}

size_t ServeApi::one_lane(const nlohmann::json& body,
                          const std::vector<std::string>& models) const {
    if (auto named = named_lane(body))
        return *named;
    if (models.empty() || lanes.size() == 1)
        return 0;
    size_t first = lane_of(models[0]);
    for (const auto& m : models)
        if (size_t i = lane_of(m); i != first)
            throw usage(core::util::printable(models[0]) + " is on endpoint " +
                            lanes[first].endpoint.name + " and " + core::util::printable(m) +
                            " on " + lanes[i].endpoint.name,
                        "send one request per endpoint, or name one with \"endpoint\"");
    return first;
}

void ServeApi::load(core::http::Exchange& ex, const nlohmann::json& body) {
    auto models = names(body);
    if (models.empty())
        throw usage("name the models to load", R"(e.g. {"models": ["llama3.2:3b"]})");
    bool dry_run = flag(body, "dry_run");
    bool no_evict = flag(body, "no_evict");
    const Lane& lane = lanes[one_lane(body, models)];
    auto& server = lane.server;
    auto& admission = lane.admission;
    json doc;
    int status = 200;
    admission.run_exclusive([&] {
        core::registry::Registry reg(server, lane.store);
        const auto& cfg = ctx.config(); // as it is now (SIGHUP reads it again)
        auto lp = core::operations::plan_loads(server, reg, cfg, ctx.budget_fn(lane.endpoint),
                                               models, false, busy(admission));
        json plan_doc = plan_json(lp);
        int code = 0;
        std::optional<ErrorKind> failure;
        json results = json::array();
        for (const auto& m : lp.missing) {
            results.push_back(failed_model(m.error, m.model, code));
            failure = failure.value_or(m.error.kind());
        }
        doc = {
            {"schema", "modelctl.load/v2"}, {"server", server_json(server)}, {"dry_run", dry_run}};
        if (!lp.plan.feasible()) {
            Error refusal = lp.refusal();
            std::string joined;
            for (const auto& w : lp.wanted)
                joined += (joined.empty() ? "" : ",") + w.model;
            notify({"refuse", joined, refusal.what(), lane.endpoint.name,
                    lane.endpoint.address.url()});
            doc["plan"] = plan_doc;
            doc["results"] = results;
            doc["error"] = error_json(refusal);
            status = http_status_for(refusal.kind());
            return;
        }
        if (!dry_run) {
            lp.refuse_evictions(no_evict);
            json evicted = json::array();
            for (const auto& v : lp.plan.evict) {
                auto r = reg.unload(v.name);
                evicted.push_back({{"model", v.name}, {"freed", r.freed}, {"reason", v.reason}});
                notify(
                    {"evict", v.name, v.reason, lane.endpoint.name, lane.endpoint.address.url()});
            }
            plan_doc["evicted"] = evicted;
            for (const auto& w : lp.wanted) {
                try {
                    auto r = reg.load(w.model, core::serve::serve_load_settings(cfg, w));
                    results.push_back(load_result_json(r, core::util::now()));
                    if (!r.was_loaded)
                        notify({"load", r.model, "asked through the management API",
                                lane.endpoint.name, lane.endpoint.address.url()});
                } catch (const Error& e) {
                    results.push_back(model_failure(e, w.model, code));
                    failure = failure.value_or(e.kind());
                }
            }
        }
        doc["plan"] = plan_doc;
        doc["results"] = results;
        if (failure)
            status = http_status_for(*failure);
    });
    answer(ex, status, doc);
}

void ServeApi::unload(core::http::Exchange& ex, const nlohmann::json& body) {
    auto models = names(body);
    bool all = flag(body, "all");
    if (all == !models.empty())
        throw usage(all ? "name models or set \"all\", not both"
                        : "name the models to unload, or set \"all\": true");
    const Lane& lane = lanes[one_lane(body, models)];
    auto& server = lane.server;
    auto& admission = lane.admission;
    json results = json::array();
    std::optional<ErrorKind> failure;
    admission.run_exclusive([&] {
        core::registry::Registry reg(server, lane.store);
        std::vector<std::string> targets = models;
        if (all)
            for (const auto& m : server.loaded())
                targets.push_back(m.name);
        auto in_use = busy(admission);
        int code = 0;
        for (const auto& model : targets) {
            try {
                auto canonical = server.canonical(model);
                if (in_use.count(canonical))
                    throw Error(ErrorKind::Busy,
                                canonical + " is answering requests; serve never unloads a model "
                                            "with requests in flight",
                                "ask again once they are answered");
                auto r = reg.unload(model);
                results.push_back(unload_result_json(r));
                if (r.was_loaded)
                    notify({"unload", r.model, "asked through the management API",
                            lane.endpoint.name, lane.endpoint.address.url()});
            } catch (const Error& e) {
                results.push_back(model_failure(e, model, code));
                failure = failure.value_or(e.kind());
            }
        }
    });
    answer(
        ex, failure ? http_status_for(*failure) : 200,
        {{"schema", "modelctl.unload/v2"}, {"server", server_json(server)}, {"results", results}});
}

void ServeApi::gc(core::http::Exchange& ex, const nlohmann::json& body) {
    GcOptions o;
    o.dry_run = flag(body, "dry_run");
    core::config::Config run_cfg = ctx.config();
    if (body.contains("idle")) {
        const auto& idle = body["idle"];
        auto d =
            idle.is_string() ? core::util::parse_duration(idle.get<std::string>()) : std::nullopt;
        if (!d)
            throw usage("'idle' must be a duration such as \"30m\"");
        o.idle = idle.get<std::string>();
        run_cfg.idle_timeout = *d;
    }
    // One gc at a time, with cron's too (`modelctl gc` takes the same lock).
    auto& store = lanes[0].store;
    store.ensure_dir();
    auto lock = core::store::LockFile::try_acquire(store.dir() / "gc.lock");
    if (!lock) {
        answer(ex, 200, {{"schema", "modelctl.gc/v2"}, {"skipped", "another gc is running"}});
        return;
    }
    std::vector<size_t> visit;
    if (auto named = named_lane(body))
        visit = {*named};
    else
        for (size_t i = 0; i < lanes.size(); ++i)
            visit.push_back(i);
    json results = json::array();
    std::optional<json> primary;
    int status = 200;
    for (size_t i : visit) {
        const Lane& lane = lanes[i];
        lane.admission.run_exclusive([&] {
            GcRun run;
            run.text = false;
            run.keep = busy(lane.admission);
            run.unloaded = [&](const core::policy::Victim& v, const char* why) {
                notify({"unload", v.name, std::string(why) + ": " + v.reason, lane.endpoint.name,
                        lane.endpoint.address.url()});
            };
            int code = 0;
            json result = gc_endpoint(ctx, lane.endpoint, o, run_cfg, "", code, run);
            if (code)
                status = 502; // a model the server failed to unload: its action says why
            if (lane.endpoint.name == ctx.endpoint().name)
                primary = result;
            results.push_back(std::move(result));
        });
    }
    answer(ex, status, gc_document(o, results, primary));
}

void ServeApi::stream_events(core::http::Exchange& ex) {
    // A listener that reconnects says the last id it saw (SSE's
    // Last-Event-ID) and gets what it missed, as far as it is kept; a new one
    // starts with what happens from now on.
    uint64_t last = events.last_id();
    if (auto seen = core::http::find_field(ex.request().fields, "Last-Event-ID")) {
        uint64_t id = 0;
        auto [p, ec] = std::from_chars(seen->data(), seen->data() + seen->size(), id);
        if (ec == std::errc() && p == seen->data() + seen->size() && id <= last)
            last = id;
    }
    core::http::ResponseHead head;
    head.status = 200;
    head.reason = "OK";
    head.fields = {{"Content-Type", "text/event-stream; charset=utf-8"},
                   {"Cache-Control", "no-cache"},
                   {"X-Accel-Buffering", "no"}};
    if (!ex.respond(head) || !ex.write(": modelctl serve events\n\n"))
        return;
    auto quiet_since = std::chrono::steady_clock::now();
    while (!stopping() && !ex.client_gone()) {
        uint64_t missed = 0;
        auto batch = events.after(last, std::chrono::milliseconds(1000), missed);
        std::string out;
        if (missed)
            out += "event: missed\ndata: " + dump({{"events", missed}}) + "\n\n";
        for (const auto& e : batch) {
            out += "id: " + std::to_string(e.id) + "\nevent: " + e.what.type +
                   "\ndata: " + event_line(e) + "\n\n";
            last = e.id;
        }
        auto now = std::chrono::steady_clock::now();
        if (out.empty() && now - quiet_since > std::chrono::seconds(15))
            out = ": keep-alive\n\n"; // through proxies that close quiet connections
        if (out.empty())
            continue;
        quiet_since = now;
        if (!ex.write(out))
            return;
    }
    ex.finish();
}

} // namespace modelctl

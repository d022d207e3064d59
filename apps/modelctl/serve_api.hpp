#pragma once
// serve's management API (issue 17), beside the proxy:
//   POST /modelctl/v1/load    {"models": ["a", ...], "dry_run": false, "no_evict": false}
//   POST /modelctl/v1/unload  {"models": ["a", ...]} or {"all": true}
//   POST /modelctl/v1/gc      {"idle": "30m", "dry_run": false} (both optional)
// Each takes "endpoint" too. load and unload act on one server: the one it
// names, else the one the models' requests go to (several: refused), else
// the first; gc goes through every server unless it names one.
//   GET  /modelctl/v1/events  server-sent events: load, evict, unload, expire, refuse, ...
// Each POST plans as the command of the same name plans and answers its JSON
// document (docs/JSON.md), carried out as one admission decision: never
// beside a request's load, and never evicting or unloading a model with
// requests in flight (the plans keep such models as pins; unload answers
// them `busy`). Failures answer {"schema": "modelctl.error/v1", "error":
// {...}} with an HTTP status for the error's kind.

#include "context.hpp"
#include "http/server.hpp"
#include "serve/admission.hpp"
#include "serve/events.hpp"

#include <functional>

namespace modelctl {

struct ServeApi {
    // One server serve fronts.
    struct Lane {
        const Endpoint& endpoint;         // the configuration is ctx.config(), read again on SIGHUP
        core::provider::Provider& server; // used only within admission decisions
        core::store::Store& store;
        core::serve::Admission& admission;
    };
    Context& ctx;
    std::vector<Lane> lanes;                                 // at least one
    std::function<size_t(const std::string& model)> lane_of; // where a model's requests go
    core::serve::EventHub& events;
    std::function<void(const core::serve::Happening&)> notify; // what the API did
    std::function<bool()> stopping;

    // Answers the routes above; false for any other request.
    bool handle(core::http::Exchange& ex);

private:
    size_t one_lane(const nlohmann::json& body, const std::vector<std::string>& models) const;
    std::optional<size_t> named_lane(const nlohmann::json& body) const;
    void load(core::http::Exchange& ex, const nlohmann::json& body);
    void unload(core::http::Exchange& ex, const nlohmann::json& body);
    void gc(core::http::Exchange& ex, const nlohmann::json& body);
    void stream_events(core::http::Exchange& ex);
};

// An event as one JSON line (no newline): the data of GET /modelctl/v1/events,
// and what a hook reads on stdin.
std::string event_line(const core::serve::EventHub::Event& e);

// The HTTP status the management API answers for an error of `kind`.
int http_status_for(core::ErrorKind kind);

} // namespace modelctl

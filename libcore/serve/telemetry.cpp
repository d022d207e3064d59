#include "serve/telemetry.hpp"

namespace core::serve {

void Histogram::add(double seconds) {
    for (size_t i = 0; i < kSecondsBuckets.size(); ++i)
        if (seconds <= kSecondsBuckets[i]) {
            ++buckets[i];
            break;
        }
    ++count;
    sum += seconds;
}

namespace {

// The route as a label: the API's own routes by name, the rest as "other",
// so a client sending random paths cannot grow the series without bound.
std::string route_label(const std::string& path) {
    static const char* const kRoutes[] = {"/",
                                          "/api/tags",
                                          "/api/ps",
                                          "/api/show",
                                          "/api/pull",
                                          "/api/push",
                                          "/api/create",
                                          "/api/copy",
                                          "/api/delete",
                                          "/api/version",
                                          "/api/generate",
                                          "/api/chat",
                                          "/api/embed",
                                          "/api/embeddings",
                                          "/v1/models",
                                          "/v1/chat/completions",
                                          "/v1/completions",
                                          "/v1/embeddings",
                                          "/v1/responses",
                                          "/api/v1/models",
                                          "/api/v1/chat",
                                          "/api/v1/models/load",
                                          "/api/v1/models/unload",
                                          "/api/v0/models",
                                          "/api/v0/chat/completions",
                                          "/api/v0/completions",
                                          "/api/v0/embeddings"};
    for (const char* r : kRoutes)
        if (path == r)
            return path;
    if (path.rfind("/api/blobs/", 0) == 0)
        return "/api/blobs";
    return "other";
}

} // namespace

void Telemetry::request(const RequestLog& r) {
    std::lock_guard lock(mutex_);
    // A model the server lacks (404) is whatever the client wrote: not a label.
    std::string model = r.model.empty() || r.status == 404 ? "-" : r.model;
    std::string status = r.status ? std::to_string(r.status) : "cancelled";
    std::string route = route_label(r.path);
    ++s_.requests[{model, route, status}];
    s_.latency[route].add(r.ms / 1000);
    if (r.usage.ttft_ms)
        s_.ttft[model].add(*r.usage.ttft_ms / 1000);
    if (r.usage.tokens_in)
        s_.tokens[{model, "in"}] += *r.usage.tokens_in;
    if (r.usage.tokens_out)
        s_.tokens[{model, "out"}] += *r.usage.tokens_out;
}

void Telemetry::happening(const Happening& h) {
    if (h.model.empty())
        return; // no model's (a change of memory pressure): the gauges say it
    std::lock_guard lock(mutex_);
    ++s_.happenings[{h.type, h.model}];
}

Telemetry::Snapshot Telemetry::snapshot() const {
    std::lock_guard lock(mutex_);
    return s_;
}

} // namespace core::serve

#pragma once
// What serve counts for /metrics, as data: requests by model, route and
// status; latency and time-to-first-token histograms; tokens; admission's
// loads, evictions, expirations and refusals by kind. Thread-safe; the
// app renders a snapshot (the Prometheus text is a renderer's job).

#include "serve/admission.hpp"
#include "serve/proxy.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace core::serve {

// Histogram bounds in seconds: from a cached one-token answer to a 70B cold load.
inline constexpr std::array<double, 15> kSecondsBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

struct Histogram {
    std::array<uint64_t, kSecondsBuckets.size()> buckets{}; // cumulative at render
    uint64_t count = 0;
    double sum = 0;
    void add(double seconds);
};

class Telemetry {
public:
    void request(const RequestLog& r);
    void happening(const Happening& h);

    struct Snapshot {
        // (model, route, status) -> requests; status "cancelled" when none was sent
        std::map<std::tuple<std::string, std::string, std::string>, uint64_t> requests;
        std::map<std::string, Histogram> latency;                       // by route
        std::map<std::string, Histogram> ttft;                          // by model
        std::map<std::pair<std::string, std::string>, uint64_t> tokens; // (model, "in"|"out")
        // (type, model) -> count: "load", "evict", "expire", "unload", "refuse", "fail"
        std::map<std::pair<std::string, std::string>, uint64_t> happenings;
    };
    Snapshot snapshot() const;

private:
    mutable std::mutex mutex_;
    Snapshot s_;
};

} // namespace core::serve

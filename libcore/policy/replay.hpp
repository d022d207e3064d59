#pragma once
// Replays a request trace under a memory budget with one eviction rule, and
// counts what it cost: cold loads, seconds spent loading, hit rate, peak
// memory. Used by `modelctl simulate` and by the policy benchmark.
//
// The model of the world (docs/POLICY.md): a request for a loaded model is a
// hit; any other request is a cold load that costs the model's load seconds
// and first evicts, by the rule, until the model fits. Loads take no trace
// time (requests are not delayed). A request for a model that cannot fit is
// refused, as `modelctl load` refuses it, and changes nothing: under every
// rule a model larger than the whole budget; under modelctl's rule, whose
// decision is policy::plan_load itself, also one that pinned models leave no
// room for.

#include "policy/policy.hpp"
#include "provider/ollama_api.hpp"

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace core::policy {

struct CatalogEntry {
    std::string name;
    uint64_t bytes = 0;
    double load_seconds = 0;
    bool pinned = false;
    int priority = kDefaultPriority;
};

struct Request {
    double time = 0;  // seconds
    size_t model = 0; // index into the catalog
};

struct Trace {
    std::vector<CatalogEntry> catalog;
    std::vector<Request> requests; // in time order
};

// When a catalog gives no load time: 1 s of runner start-up plus 2 GB/s, the
// assumption of ../shared/traces/catalog.csv.
double default_load_seconds(uint64_t bytes);

// `model,size_bytes,load_s` with a header line; load_s may be empty or the
// column absent (then default_load_seconds). Sizes may carry units ("4.7GB").
// Throws Error{Usage} naming `source` and the line on bad input.
std::vector<CatalogEntry> parse_catalog_csv(std::istream& in, const std::string& source);

// `time,model` with a header line, time in seconds; sorted by time if it is
// not. A model missing from the catalog is an error naming the line.
std::vector<Request> parse_trace_csv(std::istream& in, const std::string& source,
                                     const std::vector<CatalogEntry>& catalog);

// Keeps every `every`-th request and multiplies times by `stretch`: the
// slowed-down variant of a busy trace, closer to one workstation's pace.
std::vector<Request> thin(const std::vector<Request>& requests, size_t every, double stretch);

enum class Rule {
    Modelctl, // this policy (policy.hpp)
    Lru,      // least recently used first, by memory
    Ollama,   // Ollama's scheduler: 5 m keep_alive, at most 3 loaded, evict by name
    Belady,   // offline: farthest next use x size / load cost first
};

std::optional<Rule> parse_rule(const std::string& name);
std::string rule_name(Rule rule);

struct ReplayOptions {
    uint64_t memory = 0;
    size_t max_loaded = 0; // 0: no limit (the Ollama rule has its own, below)
    Params params;
    double ollama_keep_alive = provider::ollama::kDefaultKeepAlive.count();
    size_t ollama_max_loaded = 3;
};

struct ReplayResult {
    Rule rule = Rule::Modelctl;
    size_t requests = 0;
    size_t cold_loads = 0;
    double load_seconds = 0;
    uint64_t peak_bytes = 0;
    size_t oversize_requests = 0; // requests for models larger than the budget
    size_t refused = 0;           // requests for models that could not fit (see above)
    // Requests served by a model already loaded, of all requests.
    double hit_rate() const {
        return requests ? static_cast<double>(requests - cold_loads - refused) /
                              static_cast<double>(requests)
                        : 0;
    }
};

ReplayResult replay(const Trace& trace, Rule rule, const ReplayOptions& options);

} // namespace core::policy

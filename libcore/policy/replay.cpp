#include "policy/replay.hpp"

#include "error.hpp"
#include "util/size.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

namespace core::policy {

double default_load_seconds(uint64_t bytes) {
    return 1.0 + static_cast<double>(bytes) / 2e9;
}

namespace {

std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> out;
    std::string field;
    std::istringstream in(line);
    while (std::getline(in, field, ',')) {
        auto b = field.find_first_not_of(" \t\r");
        auto e = field.find_last_not_of(" \t\r");
        out.push_back(b == std::string::npos ? "" : field.substr(b, e - b + 1));
    }
    if (!line.empty() && line.back() == ',')
        out.emplace_back();
    return out;
}

[[noreturn]] void bad(const std::string& source, size_t line, const std::string& what) {
    throw Error(ErrorKind::Usage, source + ":" + std::to_string(line) + ": " + what);
}

std::optional<double> parse_number(const std::string& s) {
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}

// Reads a header line and returns the column index of each wanted name.
std::map<std::string, size_t> header(std::istream& in, const std::string& source,
                                     const std::vector<std::string>& required) {
    std::string line;
    if (!std::getline(in, line))
        bad(source, 1, "empty file, expected a header line");
    auto cols = split_csv(line);
    std::map<std::string, size_t> at;
    for (size_t i = 0; i < cols.size(); ++i)
        at[cols[i]] = i;
    for (const auto& r : required)
        if (!at.count(r))
            bad(source, 1, "header has no '" + r + "' column (got: " + line + ")");
    return at;
}

} // namespace

std::vector<CatalogEntry> parse_catalog_csv(std::istream& in, const std::string& source) {
    auto at = header(in, source, {"model"});
    std::string size_col = at.count("size_bytes") ? "size_bytes" : "size";
    if (!at.count(size_col))
        bad(source, 1, "header has no 'size_bytes' column");
    std::optional<size_t> load_col;
    if (at.count("load_s"))
        load_col = at["load_s"];
    std::vector<CatalogEntry> out;
    std::string line;
    for (size_t n = 2; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        auto f = split_csv(line);
        auto field = [&](size_t i) { return i < f.size() ? f[i] : std::string(); };
        CatalogEntry e;
        e.name = field(at["model"]);
        if (e.name.empty())
            bad(source, n, "empty model name");
        auto size = util::parse_size(field(at[size_col]));
        if (!size || *size == 0)
            bad(source, n, "bad size '" + field(at[size_col]) + "'");
        e.bytes = *size;
        e.load_seconds = default_load_seconds(e.bytes);
        if (load_col && !field(*load_col).empty()) {
            auto s = parse_number(field(*load_col));
            if (!s || *s < 0)
                bad(source, n, "bad load_s '" + field(*load_col) + "'");
            e.load_seconds = *s;
        }
        for (const auto& other : out)
            if (other.name == e.name)
                bad(source, n, "model '" + e.name + "' is listed twice");
        out.push_back(e);
    }
    if (out.empty())
        bad(source, 2, "no models");
    return out;
}

std::vector<Request> parse_trace_csv(std::istream& in, const std::string& source,
                                     const std::vector<CatalogEntry>& catalog) {
    auto at = header(in, source, {"time", "model"});
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < catalog.size(); ++i)
        index[catalog[i].name] = i;
    std::vector<Request> out;
    std::string line;
    bool sorted = true;
    for (size_t n = 2; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        auto f = split_csv(line);
        if (f.size() <= std::max(at["time"], at["model"]))
            bad(source, n, "expected time,model");
        auto t = parse_number(f[at["time"]]);
        if (!t || *t < 0)
            bad(source, n, "bad time '" + f[at["time"]] + "'");
        auto it = index.find(f[at["model"]]);
        if (it == index.end())
            bad(source, n, "model '" + f[at["model"]] + "' is not in the catalog");
        if (!out.empty() && *t < out.back().time)
            sorted = false;
        out.push_back({*t, it->second});
    }
    if (!sorted)
        std::stable_sort(out.begin(), out.end(),
                         [](const Request& a, const Request& b) { return a.time < b.time; });
    return out;
}

std::vector<Request> thin(const std::vector<Request>& requests, size_t every, double stretch) {
    std::vector<Request> out;
    for (size_t i = 0; i < requests.size(); i += std::max<size_t>(every, 1))
        out.push_back({requests[i].time * stretch, requests[i].model});
    return out;
}

std::optional<Rule> parse_rule(const std::string& name) {
    for (Rule r : {Rule::Modelctl, Rule::Lru, Rule::Ollama, Rule::Belady})
        if (rule_name(r) == name)
            return r;
    return std::nullopt;
}

std::string rule_name(Rule rule) {
    switch (rule) {
    case Rule::Modelctl:
        return "modelctl";
    case Rule::Lru:
        return "lru";
    case Rule::Ollama:
        return "ollama";
    case Rule::Belady:
        return "belady";
    }
    return "?";
}

namespace {

struct Slot {
    size_t model;
    uint64_t bytes;  // as counted against the budget
    double last_use; // time of the latest request
    double next_use; // time of the next request (belady only)
};

class Replayer {
public:
    Replayer(const Trace& trace, Rule rule, const ReplayOptions& o)
        : trace_(trace), rule_(rule), o_(o), uses_(trace.catalog.size()) {
        result_.rule = rule;
        if (rule == Rule::Belady) {
            next_.assign(trace.requests.size(), std::numeric_limits<double>::infinity());
            std::vector<double> seen(trace.catalog.size(), std::numeric_limits<double>::infinity());
            for (size_t i = trace.requests.size(); i-- > 0;) {
                next_[i] = seen[trace.requests[i].model];
                seen[trace.requests[i].model] = trace.requests[i].time;
            }
        }
    }

    ReplayResult run() {
        for (size_t i = 0; i < trace_.requests.size(); ++i)
            serve(i);
        return result_;
    }

private:
    size_t max_loaded() const {
        return rule_ == Rule::Ollama ? o_.ollama_max_loaded : o_.max_loaded;
    }

    uint64_t used() const {
        uint64_t sum = 0;
        for (const auto& s : loaded_)
            sum += s.bytes;
        return sum;
    }

    void serve(size_t i) {
        const Request& req = trace_.requests[i];
        const CatalogEntry& model = trace_.catalog[req.model];
        double now = req.time;
        result_.requests += 1;
        if (model.bytes > o_.memory)
            result_.oversize_requests += 1;
        if (rule_ == Rule::Ollama)
            std::erase_if(loaded_,
                          [&](const Slot& s) { return now - s.last_use > o_.ollama_keep_alive; });
        auto it = std::find_if(loaded_.begin(), loaded_.end(),
                               [&](const Slot& s) { return s.model == req.model; });
        if (it == loaded_.end()) {
            if (!make_room(model, now)) {
                result_.refused += 1;
                return; // as `modelctl load` refuses: nothing changes
            }
            result_.cold_loads += 1;
            result_.load_seconds += model.load_seconds;
            loaded_.push_back({req.model, model.bytes, now, 0});
            it = std::prev(loaded_.end());
            result_.peak_bytes = std::max(result_.peak_bytes, used());
        }
        it->last_use = now;
        if (rule_ == Rule::Belady)
            it->next_use = next_[i];
        uses_[req.model] = add_use(uses_[req.model], now, o_.params);
    }

    // Evicts by the rule until `model` fits; false (nothing evicted) when it
    // cannot. Under modelctl's rule this is policy::plan_load, the planner of
    // `modelctl load`: pins stay, and a model that does not fit beside them is
    // refused. Under every rule a model larger than the whole budget is
    // refused (docs/POLICY.md).
    bool make_room(const CatalogEntry& model, double now) {
        if (model.bytes > o_.memory)
            return false;
        if (rule_ == Rule::Modelctl)
            return evict_by_policy(model, now);
        size_t limit = max_loaded();
        while (!loaded_.empty() &&
               (used() + model.bytes > o_.memory || (limit && loaded_.size() >= limit)))
            loaded_.erase(pick_victim(now));
        return true;
    }

    std::vector<Slot>::iterator pick_victim(double now) {
        const auto& cat = trace_.catalog;
        auto by = [&](auto key) {
            return std::min_element(loaded_.begin(), loaded_.end(),
                                    [&](const Slot& a, const Slot& b) { return key(a) < key(b); });
        };
        switch (rule_) {
        case Rule::Lru:
            return by([](const Slot& s) { return s.last_use; });
        case Rule::Ollama:
            // server/sched.go findRunnerToUnload: sorted by keep_alive (all
            // equal here), then by model path; the first idle runner goes.
            return by([&](const Slot& s) { return cat[s.model].name; });
        case Rule::Belady:
            // Largest (time to next use) x size / load cost first; never used
            // again comes first of all, the largest of those first.
            return by([&](const Slot& s) {
                double gap = s.next_use - now;
                double score = std::isinf(gap) ? std::numeric_limits<double>::infinity()
                                               : gap * static_cast<double>(s.bytes) /
                                                     std::max(cat[s.model].load_seconds, 1e-9);
                return std::make_pair(-score, -static_cast<double>(s.bytes));
            });
        case Rule::Modelctl:
            break;
        }
        return loaded_.begin();
    }

    bool evict_by_policy(const CatalogEntry& model, double now) {
        std::vector<Resident> residents;
        for (const auto& s : loaded_) {
            const CatalogEntry& e = trace_.catalog[s.model];
            residents.push_back({e.name, s.bytes, e.load_seconds, e.pinned, e.priority,
                                 uses_[s.model], s.last_use});
        }
        Plan plan = plan_load(residents, {{model.name, model.bytes}},
                              Budget{o_.memory, o_.max_loaded}, now, o_.params);
        if (!plan.feasible())
            return false;
        for (const auto& v : plan.evict)
            std::erase_if(loaded_,
                          [&](const Slot& s) { return trace_.catalog[s.model].name == v.name; });
        return true;
    }

    const Trace& trace_;
    Rule rule_;
    const ReplayOptions& o_;
    std::vector<UseCount> uses_; // by catalog index
    std::vector<double> next_;   // belady: next request time of the same model, by request
    std::vector<Slot> loaded_;
    ReplayResult result_;
};

} // namespace

ReplayResult replay(const Trace& trace, Rule rule, const ReplayOptions& options) {
    if (options.memory == 0)
        throw Error(ErrorKind::Usage, "the memory budget must be more than 0");
    return Replayer(trace, rule, options).run();
}

} // namespace core::policy

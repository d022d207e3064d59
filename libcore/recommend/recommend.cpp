#include "recommend/recommend.hpp"

#include "util/size.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace core::recommend {

namespace {

constexpr std::pair<Task, std::string_view> kTasks[] = {
    {Task::Chat, "chat"},           {Task::Coding, "coding"},       {Task::Vision, "vision"},
    {Task::Embedding, "embedding"}, {Task::Reasoning, "reasoning"}, {Task::Tools, "tools"},
};

bool has(const std::vector<std::string>& caps, std::string_view c) {
    return std::find(caps.begin(), caps.end(), c) != caps.end();
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& ch : out)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

// Models trained for code, by the names their publishers give them.
bool code_model(const Candidate& c) {
    std::string n = lower(c.name) + " " + lower(c.details.family);
    for (std::string_view k : {"code", "coder", "codestral", "devstral", "starcoder"})
        if (n.find(k) != std::string::npos)
            return true;
    return false;
}

// Quality lost to quantization, in doublings of parameters (log2 units): a
// Q4 model is taken as ~13% fewer effective parameters than its F16 form.
double quantization_penalty(double bpw) {
    if (bpw <= 0)
        return 0.2; // unknown: most published models are Q4
    if (bpw >= 8)
        return 0;
    if (bpw >= 6)
        return 0.05;
    if (bpw >= 5)
        return 0.1;
    if (bpw >= 4)
        return 0.2;
    if (bpw >= 3)
        return 0.5;
    return 1.0;
}

std::string fixed(double v, int digits) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

// Maps v in [lo, hi] to [0, 1]; 1 when every candidate has the same value.
double normalize(double v, double lo, double hi) {
    return hi - lo < 1e-9 ? 1.0 : (v - lo) / (hi - lo);
}

struct Weights {
    double quality, speed, readiness;
};

Weights weights(Prefer p) {
    switch (p) {
    case Prefer::Speed:
        return {0.10, 0.75, 0.15};
    case Prefer::Quality:
        return {0.75, 0.10, 0.15};
    case Prefer::Balanced:
        break;
    }
    return {0.45, 0.40, 0.15};
}

double readiness_value(Readiness r) {
    switch (r) {
    case Readiness::Loaded:
        return 1.0;
    case Readiness::Fits:
        return 0.6;
    case Readiness::Evicts:
        return 0.2;
    case Readiness::Blocked:
        break;
    }
    return 0.0;
}

} // namespace

std::optional<Task> parse_task(std::string_view name) {
    for (const auto& [t, n] : kTasks)
        if (n == name)
            return t;
    return std::nullopt;
}

std::string_view task_name(Task t) {
    for (const auto& [task, n] : kTasks)
        if (task == t)
            return n;
    return "chat";
}

std::optional<Prefer> parse_prefer(std::string_view name) {
    if (name == "speed")
        return Prefer::Speed;
    if (name == "quality")
        return Prefer::Quality;
    if (name == "balanced")
        return Prefer::Balanced;
    return std::nullopt;
}

std::string_view prefer_name(Prefer p) {
    switch (p) {
    case Prefer::Speed:
        return "speed";
    case Prefer::Quality:
        return "quality";
    case Prefer::Balanced:
        break;
    }
    return "balanced";
}

double default_bandwidth(std::string_view pool) {
    if (pool == "gpu")
        return 400e9;
    if (pool == "ram")
        return 50e9;
    return 100e9;
}

double parameter_count(std::string_view s) {
    if (s.empty())
        return 0;
    double scale = 1;
    switch (std::toupper(static_cast<unsigned char>(s.back()))) {
    case 'K':
        scale = 1e3;
        break;
    case 'M':
        scale = 1e6;
        break;
    case 'B':
        scale = 1e9;
        break;
    case 'T':
        scale = 1e12;
        break;
    default:
        return 0;
    }
    std::string digits(s.substr(0, s.size() - 1));
    char* end = nullptr;
    double v = std::strtod(digits.c_str(), &end);
    if (digits.empty() || end != digits.c_str() + digits.size() || !(v > 0))
        return 0;
    return v * scale;
}

double bits_per_weight(std::string_view q) {
    // llama.cpp's figures for its quantization types (bits per weight,
    // including block scales).
    static const std::pair<std::string_view, double> table[] = {
        {"F32", 32},      {"BF16", 16},     {"F16", 16},       {"Q8_0", 8.5},    {"Q6_K", 6.56},
        {"Q5_K_M", 5.69}, {"Q5_K_S", 5.54}, {"Q5_1", 6.0},     {"Q5_0", 5.5},    {"Q4_K_M", 4.85},
        {"Q4_K_S", 4.58}, {"Q4_1", 5.0},    {"Q4_0", 4.55},    {"IQ4_XS", 4.25}, {"Q3_K_L", 4.27},
        {"Q3_K_M", 3.91}, {"Q3_K_S", 3.5},  {"IQ3_XXS", 3.06}, {"Q2_K", 3.35},   {"IQ2_XS", 2.31},
    };
    std::string u(q);
    for (auto& ch : u)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    for (const auto& [name, bits] : table)
        if (u == name)
            return bits;
    return 0;
}

bool capable(const std::vector<std::string>& caps, Task task) {
    switch (task) {
    case Task::Embedding:
        return has(caps, "embedding");
    case Task::Vision:
        return has(caps, "vision");
    case Task::Tools:
        return has(caps, "tools");
    default:
        return caps.empty() || has(caps, "completion");
    }
}

Result rank(const std::vector<Candidate>& candidates, const Request& req) {
    Result res;
    std::vector<const Candidate*> pool;
    for (const auto& c : candidates) {
        if (c.uses > 0)
            res.history = true;
        if (!capable(c.capabilities, req.task)) {
            res.excluded.push_back(
                {c.name,
                 req.task == Task::Embedding || req.task == Task::Vision || req.task == Task::Tools
                     ? "no " + std::string(task_name(req.task)) + " capability"
                     : "does not generate text (an embedding model)"});
        } else if (req.max_memory && c.bytes > req.max_memory) {
            res.excluded.push_back({c.name, "needs " + util::format_size(c.bytes) +
                                                ", more than --max-memory " +
                                                util::format_size(req.max_memory)});
        } else if (req.budget && c.bytes > req.budget) {
            res.excluded.push_back({c.name, "needs " + util::format_size(c.bytes) +
                                                ", more than the whole budget of " +
                                                util::format_size(req.budget)});
        } else {
            pool.push_back(&c);
        }
    }

    // Calibrate the speed estimate on measured models: tokens/s x bytes is
    // about the effective bandwidth, the same for every model on a machine.
    std::vector<double> bandwidths;
    for (const auto& c : candidates)
        if (c.tokens_per_second > 0 && c.bytes > 0)
            bandwidths.push_back(c.tokens_per_second * static_cast<double>(c.bytes));
    double bandwidth = req.bandwidth;
    if (!bandwidths.empty()) {
        std::sort(bandwidths.begin(), bandwidths.end());
        bandwidth = bandwidths[bandwidths.size() / 2];
    }

    struct Raw {
        double quality, tps, params;
        bool measured, params_known;
    };
    std::vector<Raw> raw;
    for (const Candidate* c : pool) {
        Raw r{};
        double bpw = bits_per_weight(c->details.quantization_level);
        r.params = parameter_count(c->details.parameter_size);
        r.params_known = r.params > 0;
        if (!r.params_known) // from the size, at the quantization's bits per weight
            r.params =
                static_cast<double>(std::max<uint64_t>(c->bytes, 1)) * 8 / (bpw > 0 ? bpw : 4.85);
        r.quality = std::log2(r.params) - quantization_penalty(bpw);
        if (req.task == Task::Coding && code_model(*c))
            r.quality += 1; // a code model counts as twice the parameters
        if (req.task == Task::Reasoning && has(c->capabilities, "thinking"))
            r.quality += 1;
        r.measured = c->tokens_per_second > 0;
        r.tps = r.measured ? c->tokens_per_second
                           : bandwidth / static_cast<double>(std::max<uint64_t>(c->bytes, 1));
        raw.push_back(r);
    }
    double qlo = 1e300, qhi = -1e300;
    for (const auto& r : raw) {
        qlo = std::min(qlo, r.quality);
        qhi = std::max(qhi, r.quality);
    }

    Weights w = weights(req.prefer);
    for (size_t i = 0; i < pool.size(); ++i) {
        const Candidate& c = *pool[i];
        const Raw& r = raw[i];
        Ranked out;
        out.name = c.name;
        out.candidate = &c;
        out.quality = normalize(r.quality, qlo, qhi);
        out.speed = r.tps / (r.tps + kComfortableTokensPerSecond);
        out.tokens_per_second = r.tps;
        out.measured = r.measured;
        // Laplace's rule: a model with no uses is taken as reliable, one with
        // 1 failure in 2 uses as 2/3.
        double reliability = static_cast<double>(c.uses - std::min(c.failures, c.uses) + 1) /
                             static_cast<double>(c.uses + 1);
        out.score = (w.quality * out.quality + w.speed * out.speed +
                     w.readiness * readiness_value(c.readiness)) *
                    reliability;

        auto& why = out.reasons;
        switch (req.task) {
        case Task::Vision:
            why.push_back("vision capable");
            break;
        case Task::Embedding:
            why.push_back("embedding model");
            break;
        case Task::Tools:
            why.push_back("supports tool calls");
            break;
        case Task::Coding:
            if (code_model(c))
                why.push_back("trained for code");
            break;
        case Task::Reasoning:
            if (has(c.capabilities, "thinking"))
                why.push_back("thinking (reasoning) capability");
            break;
        case Task::Chat:
            break;
        }
        std::string quant = c.details.quantization_level;
        why.push_back((r.params_known ? c.details.parameter_size + " parameters"
                                      : "~" + fixed(r.params / 1e9, 1) + "B parameters by size") +
                      (quant.empty() ? "" : ", " + quant));
        // Generation speed says nothing about an embedding model.
        if (req.task != Task::Embedding && r.measured && c.bench_runs > 0)
            why.push_back(fixed(r.tps, 1) + " tok/s measured by bench (median of " +
                          std::to_string(c.bench_runs) + (c.bench_runs == 1 ? " run)" : " runs)"));
        else if (req.task != Task::Embedding && r.measured)
            why.push_back(fixed(r.tps, 1) + " tok/s measured over " + std::to_string(c.uses) +
                          (c.uses == 1 ? " use" : " uses") +
                          (c.latency_p50_ms > 0
                               ? ", p50 latency " + fixed(c.latency_p50_ms, 0) + " ms"
                               : ""));
        else if (req.task != Task::Embedding)
            why.push_back("~" + fixed(r.tps, 0) + " tok/s estimated from its size" +
                          (bandwidths.empty()
                               ? " (not measured yet)"
                               : " (calibrated on " + std::to_string(bandwidths.size()) +
                                     " measured models)"));
        if (c.uses > 0 && c.failures > 0)
            why.push_back(
                fixed(100 * static_cast<double>(c.uses - c.failures) / static_cast<double>(c.uses),
                      0) +
                "% success (" + std::to_string(c.failures) + " of " + std::to_string(c.uses) +
                " uses failed)");
        else if (c.uses > 0)
            why.push_back("no failures in " + std::to_string(c.uses) +
                          (c.uses == 1 ? " use" : " uses"));
        std::string need =
            "needs " + util::format_size(c.bytes) +
            (req.budget ? " of the " + util::format_size(req.budget) + " budget" : "");
        std::string load =
            c.mean_load_seconds > 0 ? " (loads in ~" + fixed(c.mean_load_seconds, 1) + " s)" : "";
        switch (c.readiness) {
        case Readiness::Loaded:
            why.push_back("loaded now: no cold start");
            break;
        case Readiness::Fits:
            why.push_back(need + "; fits without evicting anything" + load);
            break;
        case Readiness::Evicts: {
            std::string names;
            for (const auto& v : c.victims)
                names += (names.empty() ? "" : ", ") + v;
            why.push_back(need + "; loading would evict " + names + load);
            break;
        }
        case Readiness::Blocked:
            why.push_back(need + "; cannot load now: pinned models hold the memory");
            break;
        }
        res.ranked.push_back(std::move(out));
    }
    std::sort(res.ranked.begin(), res.ranked.end(), [](const Ranked& a, const Ranked& b) {
        if (std::abs(a.score - b.score) > 1e-12)
            return a.score > b.score;
        return a.name < b.name;
    });
    if (res.ranked.size() > req.count)
        res.ranked.resize(req.count);
    return res;
}

} // namespace core::recommend

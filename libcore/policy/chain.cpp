#include "policy/chain.hpp"

#include "util/size.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <numeric>

namespace core::policy {

namespace {

// A model's stay between two uses: from the step of one use (-1: the chain's
// start, when it was loaded before) to the step of its next.
struct Interval {
    size_t model = 0;
    long from = -1;
    size_t to = 0;
    double saves = 0; // the load it spares
    uint64_t bytes = 0;
    // Steps it holds memory through, beside theirs: from+1 .. to-1.
    size_t first() const { return static_cast<size_t>(from + 1); }
    bool free() const { return first() == to; } // no step between
};

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", s);
    return buf;
}

std::string step_text(long t) {
    return "step " + std::to_string(t + 1);
}

std::string steps_text(const Interval& iv) {
    return iv.first() + 1 == iv.to
               ? step_text(static_cast<long>(iv.first()))
               : "steps " + std::to_string(iv.first() + 1) + "-" + std::to_string(iv.to);
}

} // namespace

ChainPlan plan_chain(const ChainInput& in) {
    ChainPlan out;
    const size_t n = in.steps.size();
    const auto& models = in.models;
    for (size_t t = 0; t < n; ++t)
        if (models[in.steps[t]].bytes > in.capacity) {
            out.feasible = false;
            out.too_large = t;
            return out;
        }

    std::vector<Interval> all;
    {
        std::vector<long> previous(models.size(), -2); // -2: not seen, -1: loaded at the start
        for (size_t m = 0; m < models.size(); ++m)
            if (models[m].loaded)
                previous[m] = -1;
        for (size_t t = 0; t < n; ++t) {
            size_t m = in.steps[t];
            if (previous[m] != -2)
                all.push_back({m, previous[m], t, models[m].load_seconds, models[m].bytes});
            previous[m] = static_cast<long>(t);
        }
    }

    // What each step holds: its own model, then the kept intervals through it.
    std::vector<uint64_t> held(n);
    for (size_t t = 0; t < n; ++t)
        held[t] = models[in.steps[t]].bytes;
    auto fits = [&](const Interval& iv) {
        for (size_t t = iv.first(); t < iv.to; ++t)
            if (held[t] + iv.bytes > in.capacity)
                return false;
        return true;
    };
    auto hold = [&](const Interval& iv, bool add) {
        for (size_t t = iv.first(); t < iv.to; ++t)
            held[t] = add ? held[t] + iv.bytes : held[t] - iv.bytes;
    };

    std::vector<bool> chosen(all.size(), false);
    std::vector<size_t> candidates;
    for (size_t i = 0; i < all.size(); ++i) {
        if (all[i].free())
            chosen[i] = true;
        else
            candidates.push_back(i);
    }
    if (candidates.size() <= kExactIntervals) {
        // Branch and bound over keep / not keep, the largest savings first.
        std::stable_sort(candidates.begin(), candidates.end(),
                         [&](size_t a, size_t b) { return all[a].saves > all[b].saves; });
        std::vector<double> rest(candidates.size() + 1, 0); // savings still to decide
        for (size_t k = candidates.size(); k-- > 0;)
            rest[k] = rest[k + 1] + all[candidates[k]].saves;
        std::vector<bool> current(all.size(), false), best = current;
        double best_saves = -1;
        std::function<void(size_t, double)> search = [&](size_t k, double saves) {
            if (saves + rest[k] <= best_saves)
                return;
            if (k == candidates.size()) {
                best_saves = saves;
                best = current;
                return;
            }
            const Interval& iv = all[candidates[k]];
            if (iv.saves > 0 && fits(iv)) {
                hold(iv, true);
                current[candidates[k]] = true;
                search(k + 1, saves + iv.saves);
                current[candidates[k]] = false;
                hold(iv, false);
            }
            search(k + 1, saves);
        };
        search(0, 0);
        for (size_t i : candidates)
            if (best[i]) {
                chosen[i] = true;
                hold(all[i], true);
            }
    } else {
        auto density = [&](size_t i) {
            const Interval& iv = all[i];
            return iv.saves / (static_cast<double>(std::max<uint64_t>(iv.bytes, 1)) *
                               static_cast<double>(iv.to - iv.first()));
        };
        std::stable_sort(candidates.begin(), candidates.end(),
                         [&](size_t a, size_t b) { return density(a) > density(b); });
        for (size_t i : candidates)
            if (all[i].saves > 0 && fits(all[i])) {
                chosen[i] = true;
                hold(all[i], true);
            }
    }

    // Why an interval is not kept, against what the plan holds.
    auto not_kept = [&](const Interval& iv) {
        if (!fits(iv)) {
            size_t tight = iv.first();
            for (size_t t = iv.first(); t < iv.to; ++t)
                if (held[t] > held[tight])
                    tight = t;
            return "keeping its " + util::format_size(iv.bytes) + " through " + steps_text(iv) +
                   " does not fit: " + step_text(static_cast<long>(tight)) + " holds " +
                   util::format_size(held[tight]) + " of " + util::format_size(in.capacity) +
                   " already";
        }
        return "keeping it through " + steps_text(iv) + " saves only " + seconds_text(iv.saves) +
               " for its " + util::format_size(iv.bytes);
    };

    out.steps.resize(n);
    for (size_t t = 0; t < n; ++t) {
        ChainStep& s = out.steps[t];
        s.model = in.steps[t];
        s.bytes = held[t];
    }
    for (size_t i = 0; i < all.size(); ++i) {
        const Interval& iv = all[i];
        if (chosen[i] && !iv.free())
            for (size_t t = iv.first(); t < iv.to; ++t)
                out.steps[t].resident.push_back(iv.model);
    }
    for (size_t t = 0; t < n; ++t) {
        ChainStep& s = out.steps[t];
        const ChainModel& m = models[s.model];
        const Interval* arriving = nullptr; // the interval ending at this step
        const Interval* leaving = nullptr;  // the one starting from it
        bool arriving_kept = false, leaving_kept = false;
        for (size_t i = 0; i < all.size(); ++i) {
            if (all[i].to == t) {
                arriving = &all[i];
                arriving_kept = chosen[i];
            }
            if (all[i].from == static_cast<long>(t)) {
                leaving = &all[i];
                leaving_kept = chosen[i];
            }
        }
        s.load = !arriving_kept;
        if (!arriving) {
            s.reason = "loads " + m.name + " (" + seconds_text(m.load_seconds) + "): first use";
        } else if (!arriving_kept) {
            s.reason =
                "loads " + m.name + " again (" + seconds_text(m.load_seconds) + "): " +
                (arriving->from < 0 ? "loaded before the chain, it makes room first; " : "") +
                not_kept(*arriving);
        } else if (arriving->from < 0) {
            s.reason = m.name + " is loaded already";
        } else if (arriving->free()) {
            s.reason = m.name + " is loaded: " + step_text(arriving->from) + " used it";
        } else {
            s.reason = m.name + " kept loaded since " + step_text(arriving->from) +
                       ": spares a reload of " + seconds_text(m.load_seconds);
        }
        if (!leaving) {
            s.unload_after.push_back(s.model);
            s.reason += "; unloaded after: its last use";
        } else if (!leaving_kept) {
            s.unload_after.push_back(s.model);
            s.reason += "; unloaded after, not kept for " +
                        step_text(static_cast<long>(leaving->to)) + ": " + not_kept(*leaving);
        }
        if (s.load) {
            ++out.plan.loads;
            out.plan.seconds += m.load_seconds;
        }
        bool first_loaded = t == 0 && m.loaded;
        if (!first_loaded) {
            ++out.unload_every_step.loads;
            out.unload_every_step.seconds += m.load_seconds;
        }
        if (!first_loaded && !(t > 0 && in.steps[t - 1] == s.model)) {
            ++out.keep_if_next_same.loads;
            out.keep_if_next_same.seconds += m.load_seconds;
        }
    }
    for (size_t i = 0; i < all.size(); ++i)
        if (all[i].from < 0 && !chosen[i])
            out.unload_first.push_back(all[i].model);
    return out;
}

} // namespace core::policy

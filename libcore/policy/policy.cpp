#include "policy/policy.hpp"

#include "util/duration.hpp"
#include "util/size.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

namespace core::policy {

double priority_weight(int priority) {
    return std::pow(2.0, (std::clamp(priority, 0, kMaxPriority) - kDefaultPriority) / 2.0);
}

double eviction_cost(const Resident& r, double now, const Params& p) {
    double rate = use_rate(r.uses, now, p);
    if (rate <= 0)
        return 0; // never seen in use: nothing suggests it will be needed
    double idle = std::max(0.0, now - r.last_use);
    return priority_weight(r.priority) * r.reload_seconds / (1.0 / rate + idle);
}

Victim describe(const Resident& r, double now, const Params& p) {
    Victim v;
    v.name = r.name;
    v.bytes = r.bytes;
    v.reload_seconds = r.reload_seconds;
    v.idle_seconds = std::max(0.0, now - r.last_use);
    v.uses_per_hour = use_rate(r.uses, now, p) * 3600;
    v.priority = r.priority;
    v.cost = eviction_cost(r, now, p);
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.2g uses/h", v.uses_per_hour);
    v.reason = (r.uses.count > 0 ? "idle " + util::format_duration(util::Seconds(v.idle_seconds))
                                 : std::string("never used through modelctl")) +
               ", " + rate + ", reload ~" + util::format_duration(util::Seconds(v.reload_seconds)) +
               ", frees " + util::format_size(v.bytes);
    if (r.priority != kDefaultPriority)
        v.reason += ", priority " + std::to_string(r.priority);
    return v;
}

namespace {

struct Best {
    bool found = false;
    double cost = 0;
    uint64_t freed = 0;
    size_t count = 0;
    std::vector<size_t> members;

    // Lower cost wins; then fewer victims (models never used cost 0, and
    // unloading them all because it is free would be unloading more than
    // needed); then more memory freed.
    bool beaten_by(double c, uint64_t f, size_t n) const {
        if (!found)
            return true;
        if (c != cost)
            return c < cost;
        if (n != count)
            return n < count;
        return f > freed;
    }
};

Best exhaustive(const std::vector<Victim>& cand, uint64_t need_bytes, size_t need_slots) {
    Best best;
    size_t n = cand.size();
    for (uint32_t mask = 1; mask < (1U << n); ++mask) {
        double cost = 0;
        uint64_t freed = 0;
        size_t count = 0;
        for (size_t i = 0; i < n; ++i)
            if (mask & (1U << i)) {
                cost += cand[i].cost;
                freed += cand[i].bytes;
                ++count;
            }
        if (freed < need_bytes || count < need_slots || !best.beaten_by(cost, freed, count))
            continue;
        best = {true, cost, freed, count, {}};
        for (size_t i = 0; i < n; ++i)
            if (mask & (1U << i))
                best.members.push_back(i);
    }
    return best;
}

// Takes candidates by cost per byte until enough is free, then drops the
// costliest victims the plan can do without.
Best greedy(const std::vector<Victim>& cand, uint64_t need_bytes, size_t need_slots) {
    std::vector<size_t> order(cand.size());
    std::iota(order.begin(), order.end(), 0);
    auto density = [&](size_t i) {
        return cand[i].bytes ? cand[i].cost / static_cast<double>(cand[i].bytes)
                             : std::numeric_limits<double>::infinity();
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return density(a) < density(b); });
    Best best;
    for (size_t i : order) {
        if (best.freed >= need_bytes && best.count >= need_slots)
            break;
        best.members.push_back(i);
        best.freed += cand[i].bytes;
        best.cost += cand[i].cost;
        best.count += 1;
    }
    if (best.freed < need_bytes || best.count < need_slots)
        return {};
    std::vector<size_t> by_cost = best.members;
    std::sort(by_cost.begin(), by_cost.end(),
              [&](size_t a, size_t b) { return cand[a].cost > cand[b].cost; });
    for (size_t i : by_cost)
        if (best.freed - cand[i].bytes >= need_bytes && best.count - 1 >= need_slots) {
            best.freed -= cand[i].bytes;
            best.cost -= cand[i].cost;
            best.count -= 1;
            std::erase(best.members, i);
        }
    best.found = true;
    return best;
}

} // namespace

Choice choose_victims(const std::vector<Resident>& candidates, uint64_t need_bytes,
                      size_t need_slots, double now, const Params& p) {
    Choice choice;
    if (need_bytes == 0 && need_slots == 0) {
        choice.feasible = true;
        return choice;
    }
    std::vector<Victim> cand;
    for (const auto& r : candidates)
        if (!r.pinned)
            cand.push_back(describe(r, now, p));
    Best best = cand.size() <= p.exhaustive_limit ? exhaustive(cand, need_bytes, need_slots)
                                                  : greedy(cand, need_bytes, need_slots);
    if (!best.found)
        return choice;
    choice.feasible = true;
    for (size_t i : best.members)
        choice.victims.push_back(cand[i]);
    std::sort(choice.victims.begin(), choice.victims.end(),
              [](const Victim& a, const Victim& b) { return a.cost < b.cost; });
    choice.freed = best.freed;
    choice.cost = best.cost;
    return choice;
}

namespace {

uint64_t total_bytes(const std::vector<Resident>& models) {
    uint64_t sum = 0;
    for (const auto& m : models)
        sum += m.bytes;
    return sum;
}

// The constraints a set of models breaks, in words: memory, the count, or
// both. Each victim's reason then says what it frees of them.
std::string binding(uint64_t need_bytes, uint64_t total, size_t need_slots, size_t count,
                    const Budget& budget) {
    std::string out;
    if (need_bytes > 0)
        out = "the models would hold " + util::format_size(total) + ", " +
              util::format_size(need_bytes) + " more than the budget of " +
              util::format_size(budget.bytes);
    if (need_slots > 0)
        out += (out.empty() ? "" : "; ") + std::to_string(count) +
               " models would be loaded, more than budget.max_loaded = " +
               std::to_string(budget.max_loaded);
    return out;
}

void name_slot(std::vector<Victim>& victims, size_t need_slots, const Budget& budget) {
    if (need_slots == 0)
        return;
    for (auto& v : victims)
        v.reason +=
            " and one of the " + std::to_string(budget.max_loaded) + " slots of budget.max_loaded";
}

} // namespace

Plan plan_load(const std::vector<Resident>& loaded, const std::vector<Want>& wanted,
               const Budget& budget, double now, const Params& p) {
    Plan plan;
    plan.used_before = total_bytes(loaded);
    auto is_loaded = [&](const std::string& name) {
        return std::any_of(loaded.begin(), loaded.end(),
                           [&](const Resident& r) { return r.name == name; });
    };
    auto is_wanted = [&](const std::string& name) {
        return std::any_of(wanted.begin(), wanted.end(),
                           [&](const Want& w) { return w.name == name; });
    };
    uint64_t new_bytes = 0;
    for (const auto& w : wanted) {
        if (is_loaded(w.name) ||
            std::find(plan.load.begin(), plan.load.end(), w.name) != plan.load.end())
            continue;
        if (w.bytes > budget.bytes) {
            plan.refused = Refusal::TooLarge;
            plan.refusal = w.name + " needs " + util::format_size(w.bytes) +
                           ", more than the whole budget of " + util::format_size(budget.bytes);
            return plan;
        }
        plan.load.push_back(w.name);
        new_bytes += w.bytes;
    }
    // Candidates: loaded models that are not wanted. Pinned ones stay.
    std::vector<Resident> candidates;
    uint64_t kept_bytes = 0;
    size_t kept_count = 0;
    for (const auto& r : loaded) {
        if (!is_wanted(r.name))
            candidates.push_back(r);
        if (is_wanted(r.name) || r.pinned) {
            kept_bytes += r.bytes;
            kept_count += 1;
        }
    }
    size_t count_after = loaded.size() + plan.load.size();
    if (kept_bytes + new_bytes > budget.bytes) {
        plan.refused = Refusal::Memory;
        plan.refusal = "pinned and requested models would hold " +
                       util::format_size(kept_bytes + new_bytes) + ", more than the budget of " +
                       util::format_size(budget.bytes);
        return plan;
    }
    if (budget.max_loaded && kept_count + plan.load.size() > budget.max_loaded) {
        plan.refused = Refusal::Count;
        plan.refusal = "pinned and requested models would be " +
                       std::to_string(kept_count + plan.load.size()) +
                       ", more than max_loaded = " + std::to_string(budget.max_loaded);
        return plan;
    }
    uint64_t total = plan.used_before + new_bytes;
    uint64_t need_bytes = total > budget.bytes ? total - budget.bytes : 0;
    size_t need_slots =
        budget.max_loaded && count_after > budget.max_loaded ? count_after - budget.max_loaded : 0;
    Choice c = choose_victims(candidates, need_bytes, need_slots, now, p);
    // Cannot fail: the unpinned candidates alone cover the excess (checked above).
    plan.evict = c.victims;
    plan.need = binding(need_bytes, total, need_slots, count_after, budget);
    name_slot(plan.evict, need_slots, budget);
    plan.used_after = total - c.freed;
    return plan;
}

GcPlan plan_gc(const std::vector<Resident>& loaded, const std::vector<double>& idle_timeouts,
               const Budget& budget, double now, const Params& p, const std::string& cause) {
    GcPlan plan;
    plan.used_before = total_bytes(loaded);
    std::vector<Resident> rest;
    for (size_t i = 0; i < loaded.size(); ++i) {
        const Resident& r = loaded[i];
        double timeout = i < idle_timeouts.size() ? idle_timeouts[i] : 0;
        double idle = now - r.last_use;
        if (!r.pinned && timeout > 0 && idle > timeout) {
            Victim v = describe(r, now, p);
            v.reason = "idle " + util::format_duration(util::Seconds(idle)) +
                       ", longer than its idle timeout of " +
                       util::format_duration(util::Seconds(timeout));
            plan.idle.push_back(v);
        } else {
            rest.push_back(r);
        }
    }
    uint64_t used = total_bytes(rest);
    uint64_t need_bytes = used > budget.bytes ? used - budget.bytes : 0;
    size_t need_slots =
        budget.max_loaded && rest.size() > budget.max_loaded ? rest.size() - budget.max_loaded : 0;
    Choice c = choose_victims(rest, need_bytes, need_slots, now, p);
    if (!c.feasible) {
        // Pins alone are over: unload every unpinned model, and say so.
        c = {};
        for (const auto& r : rest)
            if (!r.pinned) {
                c.victims.push_back(describe(r, now, p));
                c.freed += r.bytes;
            }
        plan.still_over = true;
    }
    plan.need = binding(need_bytes, used, need_slots, rest.size(), budget);
    name_slot(c.victims, need_slots, budget);
    for (auto& v : c.victims)
        v.reason = cause + ": " + v.reason;
    plan.over_budget = c.victims;
    plan.used_after = used - c.freed;
    return plan;
}

} // namespace core::policy

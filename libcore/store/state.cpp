#include "store/state.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace core::store {

namespace {

double epoch(util::Timestamp t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

} // namespace

const ModelRecord* find_model(const State& state, const std::string& name) {
    auto it = state.models.find(name);
    return it == state.models.end() ? nullptr : &it->second;
}

ModelRecord& touch(State& state, const std::string& name, util::Timestamp now) {
    auto [it, inserted] = state.models.try_emplace(name);
    if (inserted)
        it->second.first_seen = now;
    it->second.last_seen = now;
    return it->second;
}

void note_use(ModelRecord& r, util::Timestamp at) {
    metrics::UseCount c{r.uses, r.uses_at ? epoch(*r.uses_at) : epoch(at)};
    c = metrics::add_use(c, epoch(at), metrics::kDecaySeconds);
    r.uses = c.count;
    r.uses_at = util::Timestamp(
        std::chrono::duration_cast<util::Timestamp::duration>(std::chrono::duration<double>(c.at)));
    if (!r.last_used || *r.last_used < at)
        r.last_used = at;
}

std::string owner(const State& state, const Event& e) {
    std::string endpoint = e.endpoint.empty() ? kDefaultEndpoint : e.endpoint;
    for (const auto& [name, former] : state.formerly)
        if (std::find(former.begin(), former.end(), endpoint) != former.end())
            return name;
    return endpoint;
}

metrics::Use as_use(const Event& e) {
    double at = epoch(e.at);
    std::time_t t = static_cast<std::time_t>(at);
    std::tm tm{};
    localtime_r(&t, &tm);
    metrics::Use u;
    u.at = at;
    u.latency_ms = e.latency_ms;
    u.ttft_ms = e.ttft_ms;
    u.tokens_in = e.tokens_in;
    u.tokens_out = e.tokens_out;
    u.eval_seconds = e.eval_seconds;
    u.failed = e.failed;
    u.cancelled = e.cancelled;
    u.hour_of_week = metrics::hour_of_week(at, tm.tm_gmtoff);
    return u;
}

void fold_use(State& state, const Event& e) {
    std::string endpoint = owner(state, e);
    auto& models = endpoint == state.endpoint ? state.models : state.other_endpoints[endpoint];
    auto [it, inserted] = models.try_emplace(e.model);
    ModelRecord& r = it->second;
    if (inserted)
        r.first_seen = r.last_seen = e.at;
    r.usage.add(as_use(e));
    note_use(r, e.at);
}

std::string invalid_use(const Event& e) {
    auto bad_ms = [](double v) { return !std::isfinite(v) || v < 0 || v > kMaxMilliseconds; };
    if (e.model.empty())
        return "no model";
    if (bad_ms(e.latency_ms))
        return "latency_ms must be a number from 0 to " + std::to_string(int64_t(kMaxMilliseconds));
    if (e.ttft_ms && bad_ms(*e.ttft_ms))
        return "ttft_ms must be a number from 0 to " + std::to_string(int64_t(kMaxMilliseconds));
    if (!std::isfinite(e.eval_seconds) || e.eval_seconds < 0 || e.eval_seconds > kMaxSeconds)
        return "eval time must be a number from 0 to " +
               std::to_string(int64_t(kMaxSeconds * 1000)) + " ms";
    if (e.tokens_in > kMaxTokens || e.tokens_out > kMaxTokens)
        return "token counts must be at most " + std::to_string(kMaxTokens);
    return {};
}

} // namespace core::store

#include "metrics/summary.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace core::metrics {

UseCount decayed(const UseCount& c, double now, double decay_seconds) {
    double dt = std::max(0.0, now - c.at);
    return {c.count * std::exp(-dt / decay_seconds), std::max(now, c.at)};
}

UseCount add_use(const UseCount& c, double now, double decay_seconds) {
    if (now < c.at && c.count > 0) // a use from before the count's time: already decayed
        return {c.count + std::exp(-(c.at - now) / decay_seconds), c.at};
    UseCount d = decayed(c, now, decay_seconds);
    d.count += 1;
    return d;
}

double use_rate(const UseCount& c, double now, double decay_seconds) {
    return decayed(c, now, decay_seconds).count / decay_seconds;
}

void Histogram::add(double ms) {
    int i = 0;
    if (ms >= 1.0) // false for NaN too
        i = static_cast<int>(
            std::min(std::floor(std::log(ms) / std::log(kBase)), double(kMaxBucket)));
    buckets_[i] += 1;
    count_ += 1;
}

void Histogram::set_bucket(int index, uint64_t n) {
    if (index < 0 || index > kMaxBucket)
        throw std::invalid_argument("histogram bucket " + std::to_string(index) + " out of range");
    count_ -= buckets_[index];
    buckets_[index] = n;
    count_ += n;
    if (n == 0)
        buckets_.erase(index);
}

double Histogram::quantile(double q) const {
    if (count_ == 0)
        return 0;
    // The smallest value with at least q of the values at or below it.
    auto rank =
        static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_)));
    rank = std::max<uint64_t>(rank, 1);
    uint64_t seen = 0;
    for (const auto& [i, n] : buckets_) {
        seen += n;
        if (seen >= rank)
            return std::pow(kBase, i + 0.5);
    }
    return std::pow(kBase, buckets_.rbegin()->first + 0.5);
}

void Summary::add(const Use& u) {
    uses += 1;
    if (u.failed)
        failures += 1;
    else if (!u.cancelled) {
        latency.add(u.latency_ms);
        if (u.ttft_ms)
            ttft.add(*u.ttft_ms);
    }
    tokens_in += u.tokens_in;
    tokens_out += u.tokens_out;
    if (u.eval_seconds > 0) {
        timed_tokens_out += u.tokens_out;
        eval_seconds += u.eval_seconds;
    }
    first_use = std::min(first_use.value_or(u.at), u.at);
    last_use = std::max(last_use.value_or(u.at), u.at);
    hour_of_week[static_cast<size_t>(std::clamp(u.hour_of_week, 0, 167))] += 1;
}

double Summary::success_rate() const {
    return uses ? static_cast<double>(uses - failures) / static_cast<double>(uses) : 1.0;
}

double Summary::tokens_per_second() const {
    return eval_seconds > 0 ? static_cast<double>(timed_tokens_out) / eval_seconds : 0;
}

int hour_of_week(double epoch_seconds, long utc_offset_seconds) {
    auto local = static_cast<long long>(std::floor(epoch_seconds)) + utc_offset_seconds;
    long long hours = local >= 0 ? local / 3600 : (local - 3599) / 3600;
    // 1970-01-01 was a Thursday: hour 0 of the epoch is Thursday 00:00, which
    // is hour 72 of a week starting on Monday.
    long long h = (hours + 72) % 168;
    return static_cast<int>(h < 0 ? h + 168 : h);
}

} // namespace core::metrics

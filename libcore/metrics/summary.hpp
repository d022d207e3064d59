#pragma once
// Per-model usage summaries, kept up to date one event at a time (never by
// rescanning the log): counts, a latency histogram for percentiles, tokens,
// loads, and uses per hour of the week. Pure code, no I/O.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace core::metrics {

// The time constant of a decayed use count: a use weighs e^-1 after this
// long. One hour fits both a busy server and a workstation (POLICY.md).
inline constexpr double kDecaySeconds = 3600;

// A count of uses that decays exponentially: every use adds 1, and the count
// shrinks by e^(-dt / decay_seconds). Two numbers, updated in O(1).
struct UseCount {
    double count = 0;
    double at = 0; // seconds: the time `count` is valid at
};

UseCount decayed(const UseCount& c, double now, double decay_seconds);
// A use at `now`; a use older than the count (an imported log) adds what
// is left of it today, e^(-age / decay_seconds).
UseCount add_use(const UseCount& c, double now, double decay_seconds);
// λ in uses per second: the decayed count over the decay time constant.
double use_rate(const UseCount& c, double now, double decay_seconds);

// Latency histogram with log-spaced buckets: bucket i holds values in
// [kBase^i, kBase^(i+1)) milliseconds, so a percentile read from it is within
// half a bucket (about 2.5%) of the true value. Values under 1 ms fall in
// bucket 0. Sparse: only buckets in use are kept.
class Histogram {
public:
    static constexpr double kBase = 1.05;
    // The last bucket, 1.05^600 ms (about 160 years): larger values count
    // there, and a stored histogram with buckets past it is malformed.
    static constexpr int kMaxBucket = 600;

    // A value that is not a finite number counts in bucket 0 (callers refuse
    // such values before they get here: store::invalid_use).
    void add(double ms);
    // The q-quantile (0 < q <= 1) as the geometric middle of its bucket; 0
    // when empty.
    double quantile(double q) const;
    uint64_t count() const { return count_; }
    const std::map<int, uint64_t>& buckets() const { return buckets_; }
    // For reading a stored histogram: 0 <= index <= kMaxBucket (an index
    // outside throws std::invalid_argument).
    void set_bucket(int index, uint64_t n);

private:
    std::map<int, uint64_t> buckets_;
    uint64_t count_ = 0;
};

// One recorded use of a model.
struct Use {
    double at = 0; // seconds since the epoch
    double latency_ms = 0;
    std::optional<double> ttft_ms;
    uint64_t tokens_in = 0;
    uint64_t tokens_out = 0;
    double eval_seconds = 0; // generation time, for tokens/s; 0 when unknown
    bool failed = false;
    int hour_of_week = 0;   // 0 = Monday 00:00-00:59 local time, .. 167
    bool cancelled = false; // a use all the same, its times cut short: not in the latencies
};

struct Summary {
    uint64_t uses = 0;
    uint64_t failures = 0;
    Histogram latency;
    Histogram ttft;
    uint64_t tokens_in = 0;
    uint64_t tokens_out = 0;
    uint64_t timed_tokens_out = 0; // tokens_out of uses whose eval_seconds is known
    double eval_seconds = 0;
    std::optional<double> first_use;
    std::optional<double> last_use;
    std::array<uint32_t, 168> hour_of_week{};

    void add(const Use& u);
    double success_rate() const; // 1 when no uses
    // Generation tokens per second over the uses that reported their time.
    double tokens_per_second() const;
};

// The hour of the week of `epoch_seconds` in local time shifted by
// `utc_offset_seconds` (Monday 00:00 = 0).
int hour_of_week(double epoch_seconds, long utc_offset_seconds);

} // namespace core::metrics

#pragma once
// Benchmarking a model: timed generations after a warm-up, summarized as
// min / median / max, and compared with an earlier result of the same model
// and settings. Figures come from the server's own durations where it gives
// them (tokens/s: eval_count / eval_duration, nanoseconds, docs/api.md) and
// from modelctl's clock where only the client can tell (time to first token,
// total time).
//
// Ollama keeps the last prompt's KV cache and reports prompt_eval_count with
// the cached tokens included while prompt_eval_duration covers only the new
// ones (ollama#16428), so a repeated prompt would show a prompt speed it
// never had. Each generation's prompt therefore begins with its own run
// number (run_prompt()), which leaves the cache nothing to reuse.

#include "metrics/bench_result.hpp"
#include "provider/provider.hpp"
#include "util/timestamp.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace core::bench {

inline constexpr const char* kDefaultPrompt =
    "Explain in a few paragraphs how a refrigerator keeps food cold, for a curious child.";

// Results and what makes two comparable (metrics/bench_result.hpp).
using Settings = metrics::BenchSettings;
using Spread = metrics::Spread;
using Result = metrics::BenchResult;

// 16 lowercase hex digits of the 64-bit FNV-1a hash of `text`.
std::string hash_text(const std::string& text);

// The prompt of generation `index` (0 is the warm-up).
std::string run_prompt(const std::string& prompt, int index);

// One timed generation.
struct Sample {
    double ttft_ms = 0;  // request sent -> first text
    double total_ms = 0; // request sent -> final line
    int64_t prompt_tokens = 0;
    int64_t tokens = 0;
    double prompt_tokens_per_second = 0; // 0 when the server gave no duration
    double tokens_per_second = 0;
    // (total - time to first token) / (tokens - 1): the client's time per
    // generated token after the first; 0 with fewer than two tokens.
    double ms_per_token = 0;
};

// min / median / max; the median of an even count is the mean of the middle
// two. All zero for no values.
Spread spread(std::vector<double> values);

// Summarizes the samples (one per run, warm-up excluded) into `result`.
void summarize(const std::vector<Sample>& samples, Result& result);

// One figure compared with an earlier result.
struct Change {
    std::string figure; // "tokens_per_second", "prompt_tokens_per_second", "ttft_ms",
                        // "ms_per_token", "total_ms", "load_seconds"
    double before = 0;
    double after = 0;
    double worse = 0; // fraction worse (negative: better), in the figure's direction
    // Whether the figure can fail a gate: not total_ms, which grows with the
    // length of the answer (a run that happens to generate 97 tokens instead
    // of 78 takes longer at the same speed).
    bool gated = true;
    bool regressed = false; // gated, and worse beyond doubt (see compare)
    std::string why;        // why it regressed, with figures; "" when it did not
};

// Compares medians (and the load time when both results measured one);
// `threshold` is a fraction (0.10 for 10%). A gated figure regresses when its
// median is worse by more than the threshold and every new run is worse than
// every earlier one (the ranges min..max do not overlap), so that the noise of
// a busy machine between runs does not fail a gate. Figures that are 0 in
// either result (not reported, or not measured then) are left out.
std::vector<Change> compare(const Result& before, const Result& after, double threshold);

// The newest of `history` comparable with `settings` (and of the same
// digest when `digest` is not empty) that did not fail a regression gate, or
// nullptr.
const Result* previous(const std::vector<Result>& history, const Settings& settings,
                       const std::string& digest = {});

struct Progress {
    int run = 0; // 0: the warm-up
    int runs = 0;
};

// Generates the warm-up and then settings.runs timed generations with
// `prompt`, each at most num_predict tokens. The model is expected to be
// loaded (a cold load is the caller's to time). `on_progress` is called
// before each generation.
std::vector<Sample> measure(provider::Provider& provider, const std::string& model,
                            const std::string& prompt, const Settings& settings,
                            const std::optional<util::KeepAlive>& keep_alive,
                            const std::function<void(const Progress&)>& on_progress);

} // namespace core::bench

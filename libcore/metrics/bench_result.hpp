#pragma once
// A benchmark's figures as they are kept: what `modelctl bench` measured
// (bench/) and the store records (store/). Data only, so that the store,
// a bottom layer, can hold results without depending on how they are made.

#include "util/timestamp.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace core::metrics {

// What makes two results comparable: the same prompt, token limit and
// context length (the count of runs and --cold are not part of it).
struct BenchSettings {
    std::string prompt_hash; // 16 hex digits of FNV-1a 64 of the prompt
    size_t prompt_chars = 0;
    int num_predict = 128;
    int num_ctx = 0; // 0: the server's default
    int runs = 5;
    bool cold = false;

    bool comparable(const BenchSettings& other) const {
        return prompt_hash == other.prompt_hash && num_predict == other.num_predict &&
               num_ctx == other.num_ctx;
    }
};

struct Spread {
    double min = 0;
    double median = 0;
    double max = 0;
};

struct BenchResult {
    util::Timestamp at;
    std::string digest; // of the model benchmarked
    BenchSettings settings;
    std::optional<double> load_seconds; // a load was measured (always with --cold)
    uint64_t size = 0;                  // memory observed after load, all of it
    uint64_t size_vram = 0;             // of that, on the GPU
    Spread ttft_ms;
    Spread total_ms;
    Spread prompt_tokens_per_second;
    Spread tokens_per_second;
    Spread ms_per_token; // all zero in results from before it was measured
    double tokens = 0;   // median tokens generated a run
    // Failed a --fail-on-regression gate: kept in the history, but never the
    // baseline a later result is compared with (bench::previous skips it).
    bool regressed = false;
};

} // namespace core::metrics

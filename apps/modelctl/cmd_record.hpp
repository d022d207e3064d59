#pragma once
// `modelctl record MODEL --latency-ms N ...` and `record --batch FILE|-`:
// record uses made outside modelctl, for stats, the policy and recommend.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace modelctl {

struct RecordOptions {
    std::string model;
    std::optional<double> latency_ms;
    std::optional<double> ttft_ms;
    uint64_t tokens = 0;           // generated
    std::optional<double> eval_ms; // generation time of those tokens
    uint64_t tokens_in = 0;
    bool failed = false;
    std::string task;
    std::string at;    // RFC 3339; empty: now
    std::string batch; // FILE or - (JSON lines)
};

void setup_record(CLI::App& app, Context& ctx);
int run_record(Context& ctx, const RecordOptions& options);

} // namespace modelctl

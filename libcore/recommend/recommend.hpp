#pragma once
// Which installed model to use for a task on this machine: a pure ranking of
// candidates by capability, quality (parameters, quantization), speed
// (measured tokens/s, else estimated from size), reliability and readiness
// (loaded now, loads without evicting). Every result carries its reasons
// with figures. The formula and its weights are in docs/RECOMMEND.md.

#include "provider/provider.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core::recommend {

enum class Task { Chat, Coding, Vision, Embedding, Reasoning, Tools };
enum class Prefer { Speed, Quality, Balanced };

inline constexpr std::string_view kTaskNames = "chat, coding, vision, embedding, reasoning, tools";
std::optional<Task> parse_task(std::string_view name);
std::string_view task_name(Task t);
std::optional<Prefer> parse_prefer(std::string_view name);
std::string_view prefer_name(Prefer p);

// "8.0B" -> 8e9, "137M" -> 1.37e8, "1.5T"; 0 when it does not parse.
double parameter_count(std::string_view parameter_size);
// Bits per weight of a quantization level ("Q4_K_M" -> 4.85, "F16" -> 16);
// 0 when unknown.
double bits_per_weight(std::string_view quantization_level);

// Whether the model can do the task: embedding, vision and tools need that
// capability; the others need text generation ("completion"). A model whose
// capabilities are unknown (an older server) is assumed able to generate.
bool capable(const std::vector<std::string>& capabilities, Task task);

enum class Readiness {
    Loaded,  // in memory now: no cold start
    Fits,    // loads into free memory, nothing evicted
    Evicts,  // loads after the policy evicts `victims`
    Blocked, // cannot load now (pins hold the memory)
};

struct Candidate {
    std::string name;
    std::vector<std::string> capabilities; // /api/show
    provider::ModelDetails details;
    uint64_t bytes = 0;       // memory it will take once loaded
    std::string bytes_source; // how that figure was found
    Readiness readiness = Readiness::Fits;
    std::vector<std::string> victims; // Evicts: what would be unloaded
    double mean_load_seconds = 0;     // 0: never loaded here
    // Recorded history (zero when none).
    uint64_t uses = 0;
    uint64_t failures = 0;
    double tokens_per_second = 0; // measured generation speed; 0 unknown
    double latency_p50_ms = 0;
    // > 0: tokens_per_second is the median of the last `modelctl bench`, over
    // this many runs (a controlled measurement, preferred to recorded uses).
    int bench_runs = 0;
};

struct Request {
    Task task = Task::Chat;
    Prefer prefer = Prefer::Balanced;
    uint64_t max_memory = 0; // a model needing more is left out; 0: no cap
    uint64_t budget = 0;     // the memory budget, for the reasons; 0: unknown
    // Bytes per second a model's weights can be read at on this machine, for
    // the speed of models never measured (decoding reads every weight once a
    // token); measured models recalibrate it. See default_bandwidth().
    double bandwidth = 100e9;
    size_t count = 3;
};

struct Ranked {
    std::string name;
    double score = 0;   // 0..1, higher is better
    double quality = 0; // 0..1 among the candidates
    double speed = 0;   // 0..1: tokens/s / (tokens/s + kComfortableTokensPerSecond)
    double tokens_per_second = 0;
    bool measured = false; // tokens_per_second from history, not estimated
    const Candidate* candidate = nullptr;
    std::vector<std::string> reasons;
};

struct Excluded {
    std::string name;
    std::string reason;
};

struct Result {
    std::vector<Ranked> ranked; // best first, at most request.count
    std::vector<Excluded> excluded;
    bool history = false; // some candidate has recorded uses
};

// Generation faster than this matters less and less: the speed score is
// tps / (tps + 30), 0.5 at 30 tok/s (about three times reading speed).
inline constexpr double kComfortableTokensPerSecond = 30;

// A guess at the weights' read bandwidth by where models live: "gpu" 400 GB/s
// (a mid-range discrete GPU), "ram" 50 GB/s (dual-channel DDR5), else 100 GB/s.
double default_bandwidth(std::string_view pool);

// Ranks `candidates` (which must outlive the result). Deterministic: ties go
// to the name that sorts first.
Result rank(const std::vector<Candidate>& candidates, const Request& request);

} // namespace core::recommend

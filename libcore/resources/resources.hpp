#pragma once
// What memory this machine has: system RAM from /proc/meminfo capped by the
// cgroup v2 limit, NVIDIA GPUs from nvidia-smi, AMD GPUs from sysfs; and the
// budget that loaded models may hold, from that and the configuration.
//
// Everything is read under a root directory (normally "/") and nvidia-smi is
// looked up on a given PATH, so that tests run on fake /proc, /sys and a fake
// nvidia-smi. nvidia-smi runs without a shell and is killed after a timeout.

#include "config/config.hpp"
#include "policy/policy.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace core::resources {

struct SystemMemory {
    uint64_t total = 0;     // MemTotal, capped by the cgroup limit
    uint64_t available = 0; // MemAvailable, capped by what the cgroup has left
    std::optional<uint64_t> cgroup_limit;
};

struct Gpu {
    std::string vendor; // "nvidia", "amd"
    std::string name;
    uint64_t total = 0;
    uint64_t used = 0;
};

struct Snapshot {
    SystemMemory ram;
    std::vector<Gpu> gpus;
    std::vector<std::string> notes; // probes that failed, and why
};

struct ProbeOptions {
    std::filesystem::path root = "/";
    std::string path_env; // PATH, to find nvidia-smi
    std::chrono::milliseconds timeout{3000};
};

Snapshot probe(const ProbeOptions& options);

SystemMemory read_system_memory(const std::filesystem::path& root);
std::vector<Gpu> read_amd_gpus(const std::filesystem::path& root);
// Parses `nvidia-smi --query-gpu=index,name,memory.total,memory.used
// --format=csv,noheader,nounits` (MiB). Lines that do not parse are skipped.
std::vector<Gpu> parse_nvidia_smi(const std::string& output);

// The budget for loaded models, and how it was reached.
struct BudgetReport {
    policy::Budget budget;
    std::string pool;        // "gpu", "ram" or "configured"
    uint64_t capacity = 0;   // the pool's size before limits
    uint64_t others = 0;     // held by other programs (local servers only)
    std::string explanation; // the arithmetic, in words
};

// `models_vram`, `models_ram`: bytes the server's loaded models hold on GPUs
// (size_vram) and in RAM (the rest), so that what other programs hold can be
// told apart. `local`: whether the server runs on this machine; a remote
// one needs budget.memory or memory.vram/memory.ram in the configuration.
// Throws Error{Usage} when no budget can be set.
BudgetReport compute_budget(const Snapshot& snap, const config::Config& cfg, bool local,
                            uint64_t models_vram, uint64_t models_ram);

// Memory pressure from other programs: a device whose free memory fell under
// its min_free (budget.ram.min_free for RAM's MemAvailable, budget.gpu.min_free
// for each GPU's total - used) is `high`; under half of it, `critical`.
enum class PressureLevel { Ok, High, Critical };
const char* level_name(PressureLevel level); // "ok", "high", "critical"

struct Pressure {
    PressureLevel level = PressureLevel::Ok; // the worst device's
    PressureLevel ram = PressureLevel::Ok;
    PressureLevel gpu = PressureLevel::Ok; // the worst GPU's
    uint64_t need = 0;  // bytes to free to bring the worst device back to its min_free
    std::string reason; // the devices under their min_free, in words ("" when ok)
};

// Read from a probe of this machine (a server elsewhere has no pressure here).
Pressure pressure(const Snapshot& snap, const config::Config& cfg);

} // namespace core::resources

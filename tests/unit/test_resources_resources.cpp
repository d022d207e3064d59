// Resources on a fake root: /proc/meminfo, cgroup v2, AMD sysfs, a fake
// nvidia-smi on PATH; and the budget computed from them.
#include "error.hpp"
#include "resources/resources.hpp"
#include "scratch.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sys/stat.h>

using namespace core;
using namespace core::resources;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t GiB = 1024ULL * 1024 * 1024;
constexpr uint64_t GB = 1000000000ULL;

void put(const fs::path& p, const std::string& text, bool executable = false) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    if (executable)
        ::chmod(p.c_str(), 0755);
}

void meminfo(const fs::path& root, uint64_t total_kb, uint64_t available_kb) {
    put(root / "proc/meminfo", "MemTotal:       " + std::to_string(total_kb) +
                                   " kB\nMemFree:         1000 kB\nMemAvailable:   " +
                                   std::to_string(available_kb) + " kB\n");
}

} // namespace

TEST_CASE("system memory from /proc/meminfo") {
    Scratch s;
    meminfo(s.path, 32 * 1024 * 1024, 20 * 1024 * 1024);
    auto m = read_system_memory(s.path);
    CHECK(m.total == 32 * GiB);
    CHECK(m.available == 20 * GiB);
    CHECK_FALSE(m.cgroup_limit);
}

TEST_CASE("cgroup v2: the tightest memory.max up the tree caps total and available") {
    Scratch s;
    meminfo(s.path, 32 * 1024 * 1024, 20 * 1024 * 1024);
    put(s.path / "proc/self/cgroup", "0::/user.slice/job.scope\n");
    put(s.path / "sys/fs/cgroup/user.slice/job.scope/memory.max", "max\n");
    put(s.path / "sys/fs/cgroup/user.slice/job.scope/memory.current", std::to_string(6 * GiB));
    put(s.path / "sys/fs/cgroup/user.slice/memory.max", std::to_string(8 * GiB));
    auto m = read_system_memory(s.path);
    REQUIRE(m.cgroup_limit);
    CHECK(*m.cgroup_limit == 8 * GiB);
    CHECK(m.total == 8 * GiB);
    CHECK(m.available == 2 * GiB);

    // A limit above physical memory changes nothing.
    put(s.path / "sys/fs/cgroup/user.slice/memory.max", std::to_string(64 * GiB));
    m = read_system_memory(s.path);
    CHECK(m.total == 32 * GiB);
    CHECK(m.available == 20 * GiB);
}

TEST_CASE("AMD GPUs from sysfs, connectors skipped") {
    Scratch s;
    put(s.path / "sys/class/drm/card0/device/mem_info_vram_total", std::to_string(16 * GiB));
    put(s.path / "sys/class/drm/card0/device/mem_info_vram_used", std::to_string(1 * GiB));
    put(s.path / "sys/class/drm/card0-DP-1/status", "connected\n");
    put(s.path / "sys/class/drm/card1/device/vendor", "0x8086\n"); // no VRAM files: skipped
    auto gpus = read_amd_gpus(s.path);
    REQUIRE(gpus.size() == 1);
    CHECK(gpus[0].vendor == "amd");
    CHECK(gpus[0].name == "AMD GPU card0");
    CHECK(gpus[0].total == 16 * GiB);
    CHECK(gpus[0].used == 1 * GiB);
}

TEST_CASE("nvidia-smi output, and a fake nvidia-smi run without a shell") {
    auto gpus = parse_nvidia_smi("0, NVIDIA GeForce RTX 4090, 24564, 1024\n"
                                 "1, NVIDIA A100, [N/A], [N/A]\n"
                                 "garbage\n");
    REQUIRE(gpus.size() == 1);
    CHECK(gpus[0].name == "NVIDIA GeForce RTX 4090");
    CHECK(gpus[0].total == 24564ULL * 1024 * 1024);
    CHECK(gpus[0].used == 1024ULL * 1024 * 1024);

    Scratch s;
    meminfo(s.path, 8 * 1024 * 1024, 4 * 1024 * 1024);
    put(s.path / "bin/nvidia-smi",
        "#!/bin/sh\n[ \"$1\" = --query-gpu=index,name,memory.total,memory.used ] || exit 9\n"
        "echo '0, Fake GPU, 8192, 512'\n",
        true);
    ProbeOptions o;
    o.root = s.path;
    o.path_env = "/nonexistent:" + (s.path / "bin").string();
    Snapshot snap = probe(o);
    REQUIRE(snap.gpus.size() == 1);
    CHECK(snap.gpus[0].name == "Fake GPU");
    CHECK(snap.notes.empty());

    // Hanging: killed at the timeout, and said so.
    put(s.path / "bin/nvidia-smi", "#!/bin/sh\nexec sleep 30\n", true);
    o.timeout = std::chrono::milliseconds(200);
    auto start = std::chrono::steady_clock::now();
    snap = probe(o);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    CHECK(snap.gpus.empty());
    REQUIRE(snap.notes.size() == 1);
    CHECK(snap.notes[0] == "nvidia-smi did not finish within 200 ms");

    // Failing: reported with its status. Missing: silent (no NVIDIA GPU).
    put(s.path / "bin/nvidia-smi", "#!/bin/sh\nexit 6\n", true);
    snap = probe(o);
    CHECK(snap.notes.at(0) == "nvidia-smi failed (exit status 6)");
    o.path_env = "/nonexistent";
    CHECK(probe(o).notes.empty());
}

TEST_CASE("budget: GPUs, then RAM, then configuration") {
    config::Config cfg; // gpu 90% / 1 GB free, ram 75% / 4 GB free
    Snapshot snap;
    snap.ram = {64 * GB, 40 * GB, std::nullopt};
    snap.gpus = {{"nvidia", "A", 24 * GB, 10 * GB}};

    // One 24 GB GPU: min(21.6, 23) = 21.6 GB; of the 10 GB used, 8 GB are
    // the server's models, 2 GB another program's.
    auto r = compute_budget(snap, cfg, true, 8 * GB, 0);
    CHECK(r.pool == "gpu");
    CHECK(r.others == 2 * GB);
    CHECK(r.budget.bytes == 21600000000ULL - 2 * GB);

    // No GPU: RAM, min(48, 60) = 48 GB; used 24 GB of which models 20 GB.
    snap.gpus.clear();
    r = compute_budget(snap, cfg, true, 0, 20 * GB);
    CHECK(r.pool == "ram");
    CHECK(r.budget.bytes == 48 * GB - 4 * GB);

    // A remote server: the local probes say nothing about it.
    snap.gpus = {{"nvidia", "A", 24 * GB, 10 * GB}};
    CHECK_THROWS_AS(compute_budget(snap, cfg, false, 0, 0), Error);
    cfg.vram = 48 * GB;
    r = compute_budget(snap, cfg, false, 0, 0);
    CHECK(r.pool == "gpu");
    CHECK(r.budget.bytes == 43200000000ULL);

    cfg.memory = 20 * GB;
    cfg.max_loaded = 2;
    r = compute_budget(snap, cfg, false, 0, 0);
    CHECK(r.pool == "configured");
    CHECK(r.budget.bytes == 20 * GB);
    CHECK(r.budget.max_loaded == 2);
}

TEST_CASE("pressure: a device under its min_free is high, under half of it critical") {
    config::Config cfg; // gpu min_free 1 GB, ram min_free 4 GB
    Snapshot snap;
    snap.ram = {64'000'000'000, 40'000'000'000, std::nullopt};
    snap.gpus = {{"nvidia", "RTX 4090", 24'000'000'000, 10'000'000'000}};
    auto ok = pressure(snap, cfg);
    CHECK(ok.level == PressureLevel::Ok);
    CHECK(ok.need == 0);
    CHECK(ok.reason.empty());
    CHECK(std::string(level_name(ok.level)) == "ok");

    snap.ram.available = 3'000'000'000; // 1 GB short of 4
    auto high = pressure(snap, cfg);
    CHECK(high.level == PressureLevel::High);
    CHECK(high.ram == PressureLevel::High);
    CHECK(high.gpu == PressureLevel::Ok);
    CHECK(high.need == 1'000'000'000);
    CHECK(high.reason == "RAM 3 GB free, under its min_free 4 GB");

    snap.gpus[0].used = 23'800'000'000; // 0.2 GB free: under half of 1 GB
    auto crit = pressure(snap, cfg);
    CHECK(crit.level == PressureLevel::Critical);
    CHECK(crit.gpu == PressureLevel::Critical);
    CHECK(crit.need == 1'000'000'000); // the worst device's shortfall (RAM 1 GB, GPU 0.8 GB)
    CHECK(crit.reason.find("GPU RTX 4090 200 MB free") != std::string::npos);

    // used past total (a hostile nvidia-smi) is no free memory, not a wrap-around
    snap.gpus[0].used = 30'000'000'000;
    CHECK(pressure(snap, cfg).need == 1'000'000'000);
    CHECK(pressure(snap, cfg).gpu == PressureLevel::Critical);
    // no probe of RAM (total 0): no RAM pressure
    Snapshot none;
    CHECK(pressure(none, cfg).level == PressureLevel::Ok);
}

#include "resources/resources.hpp"

#include "error.hpp"
#include "util/process.hpp"
#include "util/size.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace core::resources {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_first_line(const fs::path& p) {
    std::ifstream in(p);
    std::string line;
    if (!in || !std::getline(in, line))
        return std::nullopt;
    return line;
}

std::optional<uint64_t> to_u64(std::string s) {
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t\r\n") + 1);
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

// The cgroup v2 directory of this process, from /proc/self/cgroup ("0::/path").
std::optional<fs::path> cgroup_dir(const fs::path& root) {
    std::ifstream in(root / "proc/self/cgroup");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("0::", 0) == 0)
            return root / "sys/fs/cgroup" / fs::path(line.substr(3)).relative_path();
    return std::nullopt;
}

} // namespace

SystemMemory read_system_memory(const fs::path& root) {
    SystemMemory m;
    std::ifstream in(root / "proc/meminfo");
    std::string key;
    uint64_t value = 0;
    std::string unit;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        if (!(ls >> key >> value))
            continue;
        ls >> unit;
        uint64_t bytes = unit == "kB" ? value * 1024 : value;
        if (key == "MemTotal:")
            m.total = bytes;
        else if (key == "MemAvailable:")
            m.available = bytes;
    }
    // The tightest memory.max from this cgroup up to the root; what is left
    // under it is the limit minus this cgroup's memory.current.
    if (auto dir = cgroup_dir(root)) {
        fs::path top = root / "sys/fs/cgroup";
        std::optional<uint64_t> current;
        for (fs::path d = *dir;; d = d.parent_path()) {
            if (auto v = read_first_line(d / "memory.max"); v && *v != "max")
                if (auto n = to_u64(*v); n && (!m.cgroup_limit || *n < *m.cgroup_limit))
                    m.cgroup_limit = n;
            if (!current)
                if (auto v = read_first_line(d / "memory.current"))
                    current = to_u64(*v);
            if (d == top || d.string().size() <= top.string().size())
                break;
        }
        if (m.cgroup_limit && *m.cgroup_limit < m.total) {
            m.total = *m.cgroup_limit;
            uint64_t left = current && *current < *m.cgroup_limit ? *m.cgroup_limit - *current : 0;
            m.available = std::min(m.available, current ? left : m.available);
        }
    }
    return m;
}

std::vector<Gpu> read_amd_gpus(const fs::path& root) {
    std::vector<Gpu> out;
    std::error_code ec;
    fs::path drm = root / "sys/class/drm";
    std::vector<fs::path> cards;
    for (const auto& e : fs::directory_iterator(drm, ec)) {
        std::string n = e.path().filename().string();
        if (n.size() > 4 && n.rfind("card", 0) == 0 &&
            std::all_of(n.begin() + 4, n.end(), [](char c) { return c >= '0' && c <= '9'; }))
            cards.push_back(e.path());
    }
    std::sort(cards.begin(), cards.end());
    for (const auto& card : cards) {
        auto total = read_first_line(card / "device/mem_info_vram_total");
        auto used = read_first_line(card / "device/mem_info_vram_used");
        if (!total)
            continue;
        Gpu g;
        g.vendor = "amd";
        g.name = read_first_line(card / "device/product_name")
                     .value_or("AMD GPU " + card.filename().string());
        g.total = to_u64(*total).value_or(0);
        g.used = used ? to_u64(*used).value_or(0) : 0;
        if (g.total)
            out.push_back(g);
    }
    return out;
}

std::vector<Gpu> parse_nvidia_smi(const std::string& output) {
    std::vector<Gpu> out;
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::istringstream ls(line);
        std::string field;
        while (std::getline(ls, field, ','))
            f.push_back(field);
        if (f.size() != 4)
            continue;
        auto total = to_u64(f[2]);
        auto used = to_u64(f[3]);
        if (!total || !used) // "[N/A]" on some boards
            continue;
        Gpu g;
        g.vendor = "nvidia";
        g.name = f[1].substr(f[1].find_first_not_of(' '));
        g.total = *total * 1024 * 1024; // MiB
        g.used = *used * 1024 * 1024;
        out.push_back(g);
    }
    return out;
}

Snapshot probe(const ProbeOptions& o) {
    Snapshot s;
    s.ram = read_system_memory(o.root);
    if (s.ram.total == 0)
        s.notes.push_back("cannot read " + (o.root / "proc/meminfo").string());
    std::string why;
    util::RunOptions run;
    run.path_env = o.path_env;
    run.timeout = o.timeout;
    auto out = util::run_program({"nvidia-smi", "--query-gpu=index,name,memory.total,memory.used",
                                  "--format=csv,noheader,nounits"},
                                 run, why);
    if (out)
        s.gpus = parse_nvidia_smi(*out);
    else if (why.find("not found") == std::string::npos)
        s.notes.push_back(why);
    for (auto& g : read_amd_gpus(o.root))
        s.gpus.push_back(g);
    return s;
}

namespace {

uint64_t limit_of(uint64_t total, double percent, uint64_t min_free) {
    auto by_share = static_cast<uint64_t>(static_cast<double>(total) * percent / 100.0);
    uint64_t by_free = total > min_free ? total - min_free : 0;
    return std::min(by_share, by_free);
}

std::string pct(double p) {
    std::ostringstream s;
    s << p << "%";
    return s.str();
}

} // namespace

BudgetReport compute_budget(const Snapshot& snap, const config::Config& cfg, bool local,
                            uint64_t models_vram, uint64_t models_ram) {
    using util::format_size;
    BudgetReport r;
    r.budget.max_loaded = cfg.max_loaded;
    if (cfg.memory) {
        r.pool = "configured";
        r.capacity = *cfg.memory;
        r.budget.bytes = *cfg.memory;
        r.explanation = "budget.memory = " + format_size(*cfg.memory);
        return r;
    }
    std::vector<Gpu> gpus;
    if (cfg.vram)
        gpus.push_back({"configured", "memory.vram", *cfg.vram, 0});
    else if (local)
        gpus = snap.gpus;
    if (!gpus.empty()) {
        r.pool = "gpu";
        uint64_t limit = 0, used = 0;
        for (const auto& g : gpus) {
            r.capacity += g.total;
            limit += limit_of(g.total, cfg.gpu_max_percent, cfg.gpu_min_free);
            used += g.used;
        }
        r.others = used > models_vram ? used - models_vram : 0;
        r.budget.bytes = limit > r.others ? limit - r.others : 0;
        r.explanation = std::to_string(gpus.size()) + " GPU(s), " + format_size(r.capacity) +
                        "; each: min(" + pct(cfg.gpu_max_percent) + ", total - " +
                        format_size(cfg.gpu_min_free) + ") = " + format_size(limit);
        if (r.others)
            r.explanation += "; other programs hold " + format_size(r.others);
        return r;
    }
    uint64_t total = cfg.ram ? *cfg.ram : (local ? snap.ram.total : 0);
    if (total == 0)
        throw Error(ErrorKind::Usage, "no memory budget for a server that is not on this machine",
                    "set budget.memory (or memory.vram / memory.ram) in the config, or "
                    "pass --memory");
    r.pool = "ram";
    r.capacity = total;
    uint64_t limit = limit_of(total, cfg.ram_max_percent, cfg.ram_min_free);
    if (!cfg.ram && local) {
        uint64_t used = snap.ram.total - std::min(snap.ram.available, snap.ram.total);
        r.others = used > models_ram ? used - models_ram : 0;
    }
    r.budget.bytes = limit > r.others ? limit - r.others : 0;
    r.explanation = "system RAM " + format_size(total) +
                    (snap.ram.cgroup_limit && !cfg.ram ? " (cgroup limit)" : "") + ": min(" +
                    pct(cfg.ram_max_percent) + ", total - " + format_size(cfg.ram_min_free) +
                    ") = " + format_size(limit);
    if (r.others)
        r.explanation += "; other programs hold " + format_size(r.others);
    return r;
}

const char* level_name(PressureLevel level) {
    switch (level) {
    case PressureLevel::Ok:
        return "ok";
    case PressureLevel::High:
        return "high";
    case PressureLevel::Critical:
        return "critical";
    }
    return "ok";
}

Pressure pressure(const Snapshot& snap, const config::Config& cfg) {
    using util::format_size;
    Pressure p;
    // One device: its free bytes against its min_free.
    auto device = [&](const std::string& what, uint64_t free, uint64_t min_free,
                      PressureLevel& level) {
        if (free >= min_free)
            return;
        PressureLevel l = free < min_free / 2 ? PressureLevel::Critical : PressureLevel::High;
        level = std::max(level, l);
        p.level = std::max(p.level, l);
        p.need = std::max(p.need, min_free - free);
        p.reason += (p.reason.empty() ? "" : "; ") + what + " " + format_size(free) +
                    " free, under its min_free " + format_size(min_free);
    };
    if (snap.ram.total > 0)
        device("RAM", std::min(snap.ram.available, snap.ram.total), cfg.ram_min_free, p.ram);
    for (const auto& g : snap.gpus)
        device("GPU " + g.name, g.total - std::min(g.used, g.total), cfg.gpu_min_free, p.gpu);
    return p;
}

} // namespace core::resources

#include "scratch.hpp"
#include "serve/hooks.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

using namespace core::serve;
using namespace std::chrono_literals;

namespace {

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

size_t lines(const std::filesystem::path& p) {
    std::string text = read(p);
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Polls until `p` has `n` lines (at most 20 s): no fixed sleeps.
bool wait_lines(const std::filesystem::path& p, size_t n) {
    for (int i = 0; i < 2000 && lines(p) < n; ++i)
        std::this_thread::sleep_for(10ms);
    return lines(p) >= n;
}

core::config::HooksConfig on_load(std::vector<std::string> argv, size_t max_running) {
    core::config::HooksConfig c;
    c.commands["on_load"] = std::move(argv);
    c.max_running = max_running;
    c.timeout = core::util::Seconds(20);
    return c;
}

struct Log {
    std::mutex m;
    std::vector<std::string> lines;
    std::function<void(const std::string&)> fn() {
        return [this](const std::string& s) {
            std::lock_guard lock(m);
            lines.push_back(s);
        };
    }
    std::string all() {
        std::lock_guard lock(m);
        std::string out;
        for (const auto& l : lines)
            out += l + "\n";
        return out;
    }
};

} // namespace

TEST_CASE("hooks: max_running 1 runs them one at a time, in the order fired") {
    Scratch dir;
    std::string d = dir.path.string();
    // A run that finds another running (its lock directory there) says so.
    auto cfg =
        on_load({"sh", "-c",
                 "mkdir \"$0/lock\" || echo overlap >>\"$0/log\"; sleep 0.02; "
                 "echo \"$MODELCTL_MODEL $MODELCTL_ENDPOINT\" >>\"$0/done\"; rmdir \"$0/lock\"",
                 d},
                1);
    Log log;
    Hooks hooks({}, "/usr/bin:/bin", log.fn());
    for (int i = 0; i < 6; ++i)
        hooks.fire(cfg, {"load", "m" + std::to_string(i), "", "home", "http://x"}, i + 1, "{}");
    REQUIRE(wait_lines(dir.path / "done", 6));
    CHECK(read(dir.path / "done") == "m0 home\nm1 home\nm2 home\nm3 home\nm4 home\nm5 home\n");
    CHECK_FALSE(std::filesystem::exists(dir.path / "log")); // never two at once
    CHECK(log.all().empty());
}

TEST_CASE("hooks: max_running 2 runs two at once") {
    Scratch dir;
    std::string d = dir.path.string();
    // Each waits (up to 10 s) for the other to have started: only two at
    // once both see the other.
    auto cfg =
        on_load({"sh", "-c",
                 "touch \"$0/$MODELCTL_MODEL\"; i=0; while [ $i -lt 500 ]; do "
                 "[ -e \"$0/a\" ] && [ -e \"$0/b\" ] && { echo both >>\"$0/log\"; exit 0; }; "
                 "i=$((i+1)); sleep 0.02; done; echo alone >>\"$0/log\"",
                 d},
                2);
    Hooks hooks({}, "/usr/bin:/bin", {});
    hooks.fire(cfg, {"load", "a", "", "", ""}, 1, "{}");
    hooks.fire(cfg, {"load", "b", "", "", ""}, 2, "{}");
    REQUIRE(wait_lines(dir.path / "log", 2));
    CHECK(read(dir.path / "log") == "both\nboth\n");
}

TEST_CASE("hooks: past the waiting line a hook is dropped and said so") {
    Scratch dir;
    std::string d = dir.path.string();
    // A run holds the only slot until `go` exists.
    auto cfg = on_load({"sh", "-c",
                        "echo >>\"$0/started\"; while [ ! -e \"$0/go\" ]; do sleep 0.01; done; "
                        "echo x >>\"$0/done\"",
                        d},
                       1);
    Log log;
    {
        Hooks hooks({}, "/usr/bin:/bin", log.fn());
        hooks.fire(cfg, {"load", "m", "", "", ""}, 1, "{}");
        REQUIRE(wait_lines(dir.path / "started", 1)); // the first runs: the rest wait
        for (size_t i = 0; i < Hooks::kMaxWaiting + 2; ++i)
            hooks.fire(cfg, {"load", "m", "", "", ""}, i + 2, "{}");
        std::ofstream(dir.path / "go") << "";
        REQUIRE(wait_lines(dir.path / "done", 1 + Hooks::kMaxWaiting));
    }
    CHECK(lines(dir.path / "done") == 1 + Hooks::kMaxWaiting);
    CHECK(log.all() == "hook on_load dropped: 64 hooks are waiting already\n"
                       "hook on_load dropped: 64 hooks are waiting already\n");
}

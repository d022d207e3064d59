#include "error.hpp"
#include "scratch.hpp"
#include "store/store.hpp"
#include "util/file.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace core;
using namespace core::store;
namespace fs = std::filesystem;

namespace {

void write_text(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

Event load_event(const std::string& model) {
    Event e;
    e.type = "load";
    e.model = model;
    e.server = "http://127.0.0.1:11434";
    e.at = util::now();
    e.seconds = 1.25;
    e.size = 4'000'000'000ULL;
    e.size_vram = 3'000'000'000ULL;
    return e;
}

} // namespace

TEST_CASE("store directory follows MODELCTL_HOME, then XDG_STATE_HOME, then HOME") {
    Environment env(std::map<std::string, std::string>{{"HOME", "/home/u"}});
    CHECK(default_dir(env) == fs::path("/home/u/.local/state/modelctl"));
    env.set("XDG_STATE_HOME", "relative/ignored");
    CHECK(default_dir(env) == fs::path("/home/u/.local/state/modelctl"));
    env.set("XDG_STATE_HOME", "/xdg/state");
    CHECK(default_dir(env) == fs::path("/xdg/state/modelctl"));
    env.set("MODELCTL_HOME", "/custom");
    CHECK(default_dir(env) == fs::path("/custom"));
    CHECK_THROWS_AS(default_dir(Environment()), Error);
}

TEST_CASE("a new store is created private and round-trips its state") {
    Scratch s;
    Store store(s.path / "state" / "modelctl");
    CHECK(store.read().models.empty()); // absent file reads as empty
    store.update(
        [](State& st) {
            auto& m = st.models["llama3.2:latest"];
            m.digest = "a80c4f17acd5";
            m.size = 2019393189;
            m.details.family = "llama";
            m.capabilities = {"completion", "tools"};
            m.first_seen = m.last_seen = util::now();
            m.loads = 1;
            m.last_load = LoadRecord{util::now(), 2.5, 3'000'000'000ULL, 1'000'000'000ULL, 4096};
        },
        {load_event("llama3.2:latest")});

    struct stat st {};
    REQUIRE(::stat(store.dir().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    REQUIRE(::stat(store.state_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(store.events_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    State back = store.read();
    REQUIRE(back.models.count("llama3.2:latest") == 1);
    const auto& m = back.models.at("llama3.2:latest");
    CHECK(m.size == 2019393189);
    CHECK(m.capabilities.size() == 2);
    REQUIRE(m.last_load);
    CHECK(m.last_load->seconds == doctest::Approx(2.5));
    CHECK(m.last_load->context_length == 4096);
    auto j = nlohmann::json::parse(read_text(store.state_path()));
    CHECK(j["schema_version"] == kSchemaVersion);

    auto log = store.read_events();
    REQUIRE(log.events.size() == 1);
    CHECK(log.events[0].size_vram == 3'000'000'000ULL);
    CHECK(log.skipped == 0);
}

TEST_CASE("a corrupt state file is refused and never overwritten") {
    Scratch s;
    Store store(s.path);
    const std::string garbage = "{\"schema_version\": 1, \"models\": {\"x\": ";
    write_text(store.state_path(), garbage);
    CHECK_THROWS_AS(store.read(), Error);
    try {
        store.update([](State& st) { st.models["y"].loads = 1; });
        FAIL("update accepted a corrupt store");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Store);
        CHECK(std::string(e.what()).find("corrupt") != std::string::npos);
        CHECK(e.hint().find("--repair") != std::string::npos);
    }
    CHECK(read_text(store.state_path()) == garbage);

    auto aside = store.repair().moved_to;
    REQUIRE(aside);
    CHECK(read_text(*aside) == garbage); // kept, just moved
    CHECK(store.read().models.empty());  // a fresh state, rebuilt from an empty log
    store.update([](State& st) { st.models["y"].loads = 1; });
    CHECK(store.read().models.at("y").loads == 1);
    CHECK_FALSE(store.repair().changed()); // a healthy store is left alone
}

TEST_CASE("a state file from a newer modelctl is refused, not repaired over silently") {
    Scratch s;
    Store store(s.path);
    const std::string newer = R"({"schema_version": 99, "models": {}})";
    write_text(store.state_path(), newer);
    try {
        store.read();
        FAIL("newer schema accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("newer modelctl") != std::string::npos);
        CHECK(e.hint().find("upgrade") != std::string::npos);
    }
    CHECK_THROWS_AS(store.update([](State&) {}), Error);
    CHECK_THROWS_AS(store.repair(), Error); // not ours to move aside
    CHECK(read_text(store.state_path()) == newer);
}

TEST_CASE("wrong shapes are corrupt too") {
    Scratch s;
    Store store(s.path);
    for (const char* text :
         {"[]", "{}", R"({"schema_version":"1","models":{}})", R"({"schema_version":1})",
          R"({"schema_version":1,"models":{"a":{"loads":"x"}}})"}) {
        write_text(store.state_path(), text);
        CHECK_THROWS_AS(store.read(), Error);
    }
}

TEST_CASE("a torn last line in the event log is skipped, earlier events kept") {
    Scratch s;
    Store store(s.path);
    store.update([](State&) {}, {load_event("a"), load_event("b")});
    std::ofstream(store.events_path(), std::ios::app) << R"({"v":1,"type":"load","mod)";
    auto log = store.read_events();
    CHECK(log.events.size() == 2);
    CHECK(log.skipped == 1);
}

TEST_CASE("16 processes updating at once lose nothing") {
    Scratch s;
    const int procs = 16, rounds = 25;
    std::vector<pid_t> pids;
    for (int p = 0; p < procs; ++p) {
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int rc = 0;
            try {
                Store store(s.path, std::chrono::seconds(60));
                for (int r = 0; r < rounds; ++r)
                    store.update(
                        [&](State& st) {
                            st.models["shared"].loads += 1;
                            st.models["p" + std::to_string(p)].loads += 1;
                        },
                        {load_event("p" + std::to_string(p))});
            } catch (...) {
                rc = 1;
            }
            _exit(rc);
        }
        pids.push_back(pid);
    }
    for (pid_t pid : pids) {
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    Store store(s.path);
    State st = store.read();
    CHECK(st.models.at("shared").loads == procs * rounds);
    for (int p = 0; p < procs; ++p)
        CHECK(st.models.at("p" + std::to_string(p)).loads == rounds);
    auto log = store.read_events();
    CHECK(log.events.size() == static_cast<size_t>(procs * rounds));
    CHECK(log.skipped == 0);
}

TEST_CASE("a held lock times out with a clear error") {
    Scratch s;
    Store holder(s.path);
    holder.update([](State&) {});
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        Store inner(s.path);
        inner.update([&](State&) {
            char c = 'x';
            (void)!write(ready[1], &c, 1);
            usleep(1'500'000);
        });
        _exit(0);
    }
    char c;
    REQUIRE(read(ready[0], &c, 1) == 1);
    Store waiter(s.path, std::chrono::milliseconds(200));
    try {
        waiter.update([](State&) {});
        FAIL("lock not held?");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Store);
        CHECK(std::string(e.what()).find("locked by another modelctl") != std::string::npos);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    close(ready[0]);
    close(ready[1]);
}

TEST_CASE("a schema 1 state reads with the later fields empty, and is written as the current") {
    Scratch s;
    write_text(s.path / "state.json",
               R"({"schema_version": 1, "models": {"a:latest": {"loads": 2, "size": 5}}})");
    Store store(s.path);
    State st = store.read();
    REQUIRE(st.models.count("a:latest"));
    CHECK(st.models["a:latest"].loads == 2);
    CHECK_FALSE(st.models["a:latest"].pinned);
    CHECK(st.models["a:latest"].observed.empty());
    store.update([](State& x) { x.models["a:latest"].pinned = true; });
    auto j = nlohmann::json::parse(read_text(s.path / "state.json"));
    CHECK(j["schema_version"] == kSchemaVersion);
    CHECK(j["endpoints"]["ollama"]["models"]["a:latest"]["pinned"] == true);
    CHECK(j["endpoints"]["ollama"]["models"]["a:latest"]["loads"] == 2);
}

TEST_CASE("the event log rotates past its size limit; summaries stay whole") {
    Scratch s;
    // Each load event is ~200 bytes: a 1000-byte limit rotates every few.
    Store store(s.path, std::chrono::seconds(10), 1000);
    int n = 40;
    for (int i = 0; i < n; ++i)
        store.update([](State& st) { st.models["m"].loads += 1; },
                     {load_event("m" + std::to_string(i))});
    CHECK(store.read().models["m"].loads == n);
    CHECK(fs::file_size(store.events_path()) <= 1000);
    CHECK(fs::file_size(store.rotated_events_path()) <= 1000);
    auto log = store.read_events();
    CHECK(log.rotated);
    CHECK(log.skipped == 0);
    REQUIRE_FALSE(log.events.empty());
    CHECK(log.events.size() < static_cast<size_t>(n));
    // What is left is the most recent events, oldest first, none twice.
    for (size_t i = 0; i < log.events.size(); ++i)
        CHECK(log.events[i].model == "m" + std::to_string(n - log.events.size() + i));
    CHECK((fs::status(store.rotated_events_path()).permissions() & fs::perms::group_all) ==
          fs::perms::none);
}

TEST_CASE("a log under its limit is one file and reads whole") {
    Scratch s;
    Store store(s.path);
    for (int i = 0; i < 5; ++i)
        store.update([](State&) {}, {load_event("m" + std::to_string(i))});
    auto log = store.read_events();
    CHECK_FALSE(log.rotated);
    CHECK(log.events.size() == 5);
    CHECK_FALSE(fs::exists(store.rotated_events_path()));
}

TEST_CASE("usage histograms round-trip densely, and schema 2's sparse form still reads") {
    Scratch s;
    Store store(s.path);
    store.update([](State& st) {
        auto& u = st.models["m"].usage;
        for (double ms : {100.0, 100.0, 250.0, 4000.0})
            u.add({1.0, ms, ms / 10, 0, 0, 0, false, 3});
    });
    auto j = nlohmann::json::parse(read_text(s.path / "state.json"));
    const auto& lat = j["endpoints"]["ollama"]["models"]["m"]["usage"]["latency_ms"];
    CHECK(lat["from"] == 94); // 100 ms: floor(log(100) / log(1.05))
    std::string counts = lat["counts"];
    CHECK(counts.substr(0, 4) == "2,0,");
    auto back = store.read().models["m"].usage;
    CHECK(back.latency.count() == 4);
    CHECK(back.latency.quantile(0.5) == doctest::Approx(102.5).epsilon(0.03));
    CHECK(back.ttft.count() == 4);
    CHECK(back.hour_of_week[3] == 4);

    // A model without uses carries no usage object at all.
    store.update([](State& st) { st.models["idle"].loads = 1; });
    j = nlohmann::json::parse(read_text(s.path / "state.json"));
    CHECK_FALSE(j["endpoints"]["ollama"]["models"]["idle"].contains("usage"));

    write_text(s.path / "state.json",
               R"({"schema_version": 2, "models": {"m": {"usage": {"uses": 3,
                   "latency_ms_buckets": {"94": 2, "170": 1}, "ttft_ms_buckets": {}}}}})");
    auto old = store.read().models["m"].usage;
    CHECK(old.uses == 3);
    CHECK(old.latency.count() == 3);
    CHECK(old.latency.buckets().at(170) == 1);
}

namespace {

Event use_event(const std::string& model, double latency_ms = 100) {
    Event e;
    e.type = "use";
    e.model = model;
    e.at = util::now();
    e.latency_ms = latency_ms;
    e.tokens_out = 10;
    return e;
}

uint64_t uses_in_file(const fs::path& state, const std::string& model) {
    auto j = nlohmann::json::parse(read_text(state));
    auto m = j["endpoints"]["ollama"]["models"].find(model);
    if (m == j["endpoints"]["ollama"]["models"].end() || !m->contains("usage"))
        return 0;
    return (*m)["usage"]["uses"].get<uint64_t>();
}

} // namespace

TEST_CASE("append writes uses to the log alone; read and update fold them in") {
    Scratch s;
    Store store(s.path);
    store.append({use_event("m:latest")}); // the first one sets up the log and the mark
    std::string state_before = read_text(store.state_path());
    CHECK(uses_in_file(store.state_path(), "m:latest") == 1);
    for (int i = 0; i < 20; ++i) // ~150 bytes each: within one 8 KB fold window
        store.append({use_event("m:latest")});
    CHECK(read_text(store.state_path()) == state_before); // not rewritten
    CHECK(store.read().models["m:latest"].usage.uses == 21);
    CHECK(store.read().models["m:latest"].uses > 20); // the decayed count too
    // Any update folds them for good and moves the mark to the end.
    store.update([](State& st) { st.models["other"].loads = 1; });
    CHECK(uses_in_file(store.state_path(), "m:latest") == 21);
    auto st = store.read();
    REQUIRE(st.log);
    CHECK(st.log->offset == fs::file_size(store.events_path()));
    CHECK(st.models["m:latest"].usage.uses == 21);
}

TEST_CASE("append folds into the state each time the log crosses a fold boundary") {
    Scratch s;
    Store store(s.path);
    int n = 200; // ~30 KB of log: three boundaries crossed
    for (int i = 0; i < n; ++i)
        store.append({use_event("m:latest")});
    auto on_disk = uses_in_file(store.state_path(), "m:latest");
    CHECK(on_disk > 100);
    CHECK(on_disk <= 200);
    // What waits to be folded is less than a fold window.
    auto st = nlohmann::json::parse(read_text(store.state_path()));
    CHECK(fs::file_size(store.events_path()) - st["log"]["offset"].get<uint64_t>() <
          kFoldBytes + 200);
    CHECK(store.read().models["m:latest"].usage.uses == static_cast<uint64_t>(n));
    CHECK(store.read_events().events.size() == static_cast<size_t>(n));
    CHECK(store.read_events().skipped == 0); // the header line is not an event
}

TEST_CASE("uses waiting in the log survive its rotation, and a crash in the middle of one") {
    Scratch s;
    Store store(s.path, std::chrono::seconds(10), 4000);
    for (int i = 0; i < 100; ++i)
        store.append({use_event("m:latest")});
    CHECK(fs::exists(store.rotated_events_path()));
    CHECK(store.read().models["m:latest"].usage.uses == 100);

    // A crash after the log was renamed and before the state was written:
    // the mark names the rotated file, and all of the new log is past it.
    auto mark = *store.read_as_stored().log;
    fs::rename(store.events_path(), store.rotated_events_path());
    std::string lines = kLogHeader;
    for (int i = 0; i < 3; ++i)
        lines += to_json(use_event("m:latest")).dump() + "\n";
    write_text(store.events_path(), lines);
    CHECK(store.read_as_stored().log == mark);
    CHECK(store.read().models["m:latest"].usage.uses == 103);
    store.update([](State&) {});
    CHECK(uses_in_file(store.state_path(), "m:latest") == 103);
}

TEST_CASE("a log from before log marks is set aside whole, its summaries kept") {
    Scratch s;
    write_text(s.path / "state.json",
               R"({"schema_version": 3, "models": {"m:latest": {"usage": {"uses": 5}}}})");
    write_text(s.path / "events.jsonl",
               to_json(use_event("m:latest")).dump() + "\n"); // folded when it was written
    Store store(s.path);
    CHECK(store.read().models["m:latest"].usage.uses == 5); // no mark: nothing waits
    store.append({use_event("m:latest")});
    CHECK(store.read().models["m:latest"].usage.uses == 6);
    CHECK(fs::exists(store.rotated_events_path()));
    CHECK(read_text(store.events_path()).rfind(kLogHeader, 0) == 0);
}

TEST_CASE("endpoints: each store sees its own models; the others are kept; old data is Ollama's") {
    Scratch s;
    write_text(s.path / "state.json",
               R"({"schema_version": 5, "models": {"a:latest": {"loads": 2}}})");
    Store ollama(s.path);
    Store lms(s.path, std::chrono::seconds(10), Store::kDefaultMaxLogBytes, "gpu-box");
    CHECK(ollama.read().models.count("a:latest"));
    CHECK(lms.read().models.empty());
    CHECK(lms.read().endpoint == "gpu-box");

    // The same name on two servers: two records.
    lms.update([](State& st) { st.models["a:latest"].loads = 7; });
    lms.append({use_event("qwen/qwen3-4b")}); // stamped with its endpoint, name as given
    auto j = nlohmann::json::parse(read_text(s.path / "state.json"));
    CHECK(j["schema_version"] == kSchemaVersion);
    CHECK(j["endpoints"]["ollama"]["models"]["a:latest"]["loads"] == 2);
    CHECK(j["endpoints"]["gpu-box"]["models"]["a:latest"]["loads"] == 7);
    CHECK(lms.read().models.at("qwen/qwen3-4b").usage.uses == 1);
    CHECK(ollama.read().models.count("qwen/qwen3-4b") == 0);
    CHECK(ollama.read().models.at("a:latest").loads == 2);

    // An event from before endpoints is Ollama's, its name normalized as
    // Ollama's was then.
    auto old_json = to_json(use_event("b"));
    old_json.erase("endpoint");
    auto old = event_from_json(old_json);
    REQUIRE(old);
    CHECK(old->endpoint == kDefaultEndpoint);
    Event named = use_event("ns/b");
    named.endpoint = "ollama";
    CHECK(event_from_json(to_json(named))->model == "ns/b"); // with an endpoint: as written
    State st = ollama.read();
    fold_use(st, *old);
    CHECK(st.models.at("b:latest").usage.uses == 1);
    Event other = use_event("x");
    other.endpoint = "gpu-box";
    fold_use(st, other);
    CHECK(st.other_endpoints.at("gpu-box").at("x").usage.uses == 1);
    CHECK(st.models.count("x") == 0);
    auto events = ollama.read_events().events;
    REQUIRE_FALSE(events.empty());
    CHECK(events.back().endpoint == "gpu-box");
}

// Issue 15: every value read from the store is validated, files that are
// not what they should be are errors, and no failed write loses a record.

TEST_CASE("out-of-range numbers in state.json make it malformed, not a crash or 8 GB") {
    Scratch s;
    Store store(s.path);
    auto with_usage = [](const std::string& usage) {
        return R"({"schema_version": 7, "endpoints": {"ollama": {"models": {"m": {"usage": )" +
               usage + "}}}}}";
    };
    for (
        std::string bad : std::vector<std::string>{
            with_usage(R"({"uses": 1, "latency_ms": {"from": 2147483600, "counts": "1,1"}})"),
            with_usage(R"({"uses": 1, "latency_ms": {"from": -1000000000, "counts": "1"}})"),
            R"({"schema_version": 2, "models": {"m": {"usage": {"uses": 1, "latency_ms_buckets": {"99999999999": 1}}}}})",
            R"({"schema_version": 2, "models": {"m": {"usage": {"uses": 1, "latency_ms_buckets": {"3": -1}}}}})",
            with_usage(R"({"uses": 1, "eval_seconds": 1e999})"),
            with_usage(R"({"uses": -1})"),
            with_usage(R"({"uses": 1, "failures": 2})"),
            R"({"schema_version": 7, "endpoints": {"ollama": {"models": {"m": {"loads": 1e300}}}}})",
            R"({"schema_version": 7, "endpoints": {"ollama": {"models": {"m": {"priority": 77}}}}})",
            R"({"schema_version": 7, "endpoints": {"ollama": {"models": {"m": {"observed": {"9999999999999": {}}}}}}})",
            R"({"schema_version": 7, "endpoints": {}, "log": {"offset": -5}})",
        }) {
        CAPTURE(bad);
        write_text(store.state_path(), bad);
        try {
            store.read();
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::Store);
            CHECK(e.hint().find("--repair") != std::string::npos);
        }
        CHECK(read_text(store.state_path()) == bad);
    }
    // A histogram far longer than it can be is refused without allocating it.
    std::string counts(4000, ',');
    write_text(
        store.state_path(),
        with_usage(R"({"uses": 1, "latency_ms": {"from": 0, "counts": ")" + counts + R"("}})"));
    CHECK_THROWS_AS(store.read(), Error);
}

TEST_CASE("a use with a number that is not finite or out of bounds is refused") {
    Event e;
    e.type = "use";
    e.model = "m";
    CHECK(invalid_use(e).empty());
    for (double v : {std::nan(""), HUGE_VAL, -1.0, 1e11}) {
        Event b = e;
        b.latency_ms = v;
        CHECK_FALSE(invalid_use(b).empty());
        b = e;
        b.ttft_ms = v;
        CHECK_FALSE(invalid_use(b).empty());
        b = e;
        b.eval_seconds = v;
        CHECK_FALSE(invalid_use(b).empty());
    }
    Event b = e;
    b.tokens_out = UINT64_MAX;
    CHECK_FALSE(invalid_use(b).empty());
    // The log reader refuses the same.
    CHECK_FALSE(event_from_json(nlohmann::json::parse(
        R"({"type":"use","model":"m","at":"2026-01-01T00:00:00Z","latency_ms":1e300})")));
    CHECK(event_from_json(nlohmann::json::parse(
        R"({"type":"use","model":"m","at":"2026-01-01T00:00:00Z","latency_ms":12})")));
}

TEST_CASE("only a missing file is absent: a directory or FIFO in place of state.json is an error") {
    Scratch s;
    Store store(s.path);
    store.ensure_dir();
    fs::create_directory(store.state_path());
    CHECK_THROWS_WITH_AS(store.read(), doctest::Contains("not a regular file"), Error);
    CHECK_THROWS_AS(store.update([](State& st) { st.models["a"].pinned = true; }), Error);
    fs::remove(store.state_path());
    REQUIRE(::mkfifo(store.state_path().c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS(store.read(), doctest::Contains("not a regular file"), Error);
    CHECK(fs::is_fifo(store.state_path()));
    fs::remove(store.state_path());
    REQUIRE(::mkfifo(store.events_path().c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS(store.read_events(), doctest::Contains("not a regular file"), Error);
}

TEST_CASE("the store directory is created 0700, parents too") {
    Scratch s;
    Store store(s.path / "a" / "b");
    store.ensure_dir();
    struct stat st {};
    REQUIRE(::stat((s.path / "a" / "b").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("a use appended after a torn last line is kept on a line of its own") {
    Scratch s;
    Store store(s.path);
    store.append({use_event("m:latest")});
    store.append({use_event("m:latest")});
    std::ofstream(store.events_path(), std::ios::app) << R"({"v":1,"type":"use","mod)";
    store.append({use_event("m:latest")});
    auto log = store.read_events();
    CHECK(log.events.size() == 3);
    CHECK(log.skipped == 1);
    CHECK(store.read().models.at("m:latest").usage.uses == 3);
}

TEST_CASE("a log shorter than the state's mark is detected; repair folds in the newer uses") {
    Scratch s;
    Store store(s.path);
    store.append({use_event("m:latest")});
    auto backup = read_text(store.events_path());
    for (int i = 0; i < 3; ++i)
        store.append({use_event("m:latest")});
    store.update([](State&) {}); // folds all four; the mark is at the end
    // `cp backup events.jsonl`: the same file, shorter than the mark.
    { std::ofstream(store.events_path(), std::ios::binary | std::ios::trunc) << backup; }
    CHECK_THROWS_WITH_AS(store.read(), doctest::Contains("shorter"), Error);
    auto later = use_event("m:latest");
    later.at += std::chrono::seconds(5);
    store.append({later}); // record only appends: the use waits in the log
    CHECK_THROWS_AS(store.read(), Error);
    auto report = store.repair();
    CHECK(report.log_replaced);
    CHECK(report.uses_folded == 1); // the backup's use was in the summary already
    CHECK(store.read().models.at("m:latest").usage.uses == 5);
    CHECK_FALSE(store.repair().changed());
}

TEST_CASE("repair rebuilds the summaries of a corrupt state from the log") {
    Scratch s;
    Store store(s.path);
    store.append({use_event("a:latest"), use_event("b:latest", 300)});
    write_text(store.state_path(), "{\"schema_version\": 7, \"endpoints\": {");
    store.append({use_event("a:latest")}); // appended to the log although the state is corrupt
    CHECK_THROWS_AS(store.read(), Error);
    auto report = store.repair();
    REQUIRE(report.moved_to);
    CHECK(report.uses_folded == 3);
    auto st = store.read();
    CHECK(st.models.at("a:latest").usage.uses == 2);
    CHECK(st.models.at("b:latest").usage.uses == 1);
    store.append({use_event("a:latest")}); // and the log goes on from the mark
    CHECK(store.read().models.at("a:latest").usage.uses == 3);
}

TEST_CASE("an endpoint renamed for the same server takes over its records, once") {
    Scratch s;
    Store before(s.path, std::chrono::seconds(10), Store::kDefaultMaxLogBytes, "ollama");
    before.identify("http://127.0.0.1:11434", {}, nullptr);
    before.update([](State& st) { st.models["a:latest"].pinned = true; });
    Event use;
    use.type = "use";
    use.model = "a:latest";
    use.at = util::now();
    use.latency_ms = 5;
    before.append({use}); // in the log, stamped "ollama"

    std::vector<std::string> notices;
    Store renamed(s.path, std::chrono::seconds(10), Store::kDefaultMaxLogBytes, "local");
    renamed.identify("http://127.0.0.1:11434", {},
                     [&](const std::string& n) { notices.push_back(n); });
    auto st = renamed.read();
    CHECK(st.adopted_from == "ollama");
    REQUIRE(st.models.count("a:latest"));
    CHECK(st.models["a:latest"].pinned.value_or(false));
    CHECK(st.models["a:latest"].usage.uses == 1);
    CHECK(st.other_endpoints.count("ollama") == 0);
    renamed.update([](State&) {}); // kept on the next write
    auto file = state_from_json(
        nlohmann::json::parse(*util::read_file(renamed.state_path(), 1 << 20, ErrorKind::Store)),
        "local");
    CHECK(file.models.count("a:latest"));
    CHECK(file.urls["local"] == "http://127.0.0.1:11434");
    CHECK(file.formerly["local"] == std::vector<std::string>{"ollama"});
    CHECK(notices.size() == 1);
    CHECK(owner(file, use) == "local"); // old events count for the new name

    // Another server, or a sibling configured now, is never taken over.
    Store other(s.path, std::chrono::seconds(10), Store::kDefaultMaxLogBytes, "remote");
    other.identify("http://10.0.0.5:11434", {}, nullptr);
    CHECK(other.read().models.empty());
    Store sibling(s.path, std::chrono::seconds(10), Store::kDefaultMaxLogBytes, "twin");
    sibling.identify("http://127.0.0.1:11434", {"local"}, nullptr);
    CHECK(sibling.read().models.empty());
}

TEST_CASE("a section that recorded no url is taken as where its default endpoint was") {
    Scratch s;
    write_text(
        s.path / "state.json",
        R"({"schema_version": 7, "endpoints": {"ollama": {"models": {"a:latest": {"pinned": true}}}}})");
    Store elsewhere(s.path, std::chrono::seconds(10), Store::kDefaultMaxLogBytes, "local");
    elsewhere.identify("http://127.0.0.1:11434", {}, nullptr,
                       {{"ollama", "http://10.0.0.5:11434"}});
    CHECK(elsewhere.read().models.empty()); // the default was another server
    Store renamed(s.path, std::chrono::seconds(10), Store::kDefaultMaxLogBytes, "local");
    renamed.identify("http://127.0.0.1:11434", {}, nullptr, {{"ollama", "http://127.0.0.1:11434"}});
    auto st = renamed.read();
    CHECK(st.adopted_from == "ollama");
    CHECK(st.models.at("a:latest").pinned.value_or(false));
}

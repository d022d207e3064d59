#include "error.hpp"
#include "serve/admission.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <set>
#include <thread>

using namespace core::serve;
using namespace std::chrono_literals;

namespace {

// A server that holds at most `capacity` models and evicts the oldest
// loaded; every call is logged, and calls that overlap are counted.
class FakeBackend : public Backend {
public:
    explicit FakeBackend(size_t capacity) : capacity_(capacity) {}

    std::vector<std::string> loaded() override {
        Call c(*this);
        std::lock_guard lock(mutex_);
        return loaded_;
    }
    Plan plan(const std::string& model, const std::set<std::string>& keep) override {
        Call c(*this);
        std::lock_guard lock(mutex_);
        log_.push_back("plan " + model);
        Plan p;
        p.model = model;
        if (model == "missing")
            throw core::Error(core::ErrorKind::NotFound, "not installed");
        if (model == "huge") {
            p.refusal = "huge needs more than the whole budget";
            return p;
        }
        for (size_t i = 0; loaded_.size() - p.victims.size() >= capacity_; ++i) {
            if (i == loaded_.size()) {
                p.refusal = "no room beside the models kept";
                p.victims.clear();
                return p;
            }
            if (keep.count(loaded_[i]))
                continue;
            p.victims.push_back(loaded_[i]);
            p.reasons.push_back("oldest");
        }
        return p;
    }
    void unload(const std::string& model, const std::string&) override {
        Call c(*this);
        std::this_thread::sleep_for(5ms);
        std::lock_guard lock(mutex_);
        log_.push_back("unload " + model);
        std::erase(loaded_, model);
    }
    void load(const std::string& model) override {
        Call c(*this);
        std::this_thread::sleep_for(load_time);
        std::lock_guard lock(mutex_);
        if (crashing.count(model)) {
            log_.push_back("crash " + model);
            throw core::Error(core::ErrorKind::Failed, "llama runner process has terminated");
        }
        log_.push_back("load " + model);
        loaded_.push_back(model);
        max_loaded = std::max(max_loaded, loaded_.size());
    }

    void start_with(std::vector<std::string> models) { loaded_ = std::move(models); }
    std::vector<std::string> log() {
        std::lock_guard lock(mutex_);
        return log_;
    }
    size_t count(const std::string& prefix) {
        auto l = log();
        return static_cast<size_t>(std::count_if(
            l.begin(), l.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; }));
    }

    std::chrono::milliseconds load_time{10ms};
    std::set<std::string> crashing; // their loads fail
    // relieve(): the level, and the victims it proposes (those in `keep` left out).
    std::string pressure_level;
    std::vector<std::string> pressure_victims;
    std::set<std::string> last_keep;
    Relief relieve(const std::set<std::string>& keep) override {
        Call c(*this);
        Relief r;
        r.level = pressure_level;
        r.reason = "RAM 1 GB free, under its min_free 4 GB";
        last_keep = keep;
        for (const auto& v : pressure_victims)
            if (!keep.count(v)) {
                r.victims.push_back(v);
                r.reasons.push_back("memory pressure: cheapest");
            }
        return r;
    }
    std::atomic<int> calls{0};
    std::atomic<int> overlapping{0}; // calls made while another was running
    size_t max_loaded = 0;

private:
    struct Call {
        explicit Call(FakeBackend& backend) : b(backend) {
            ++b.calls;
            if (b.active_++ > 0)
                ++b.overlapping;
        }
        ~Call() { --b.active_; }
        FakeBackend& b;
    };
    size_t capacity_;
    std::mutex mutex_;
    std::vector<std::string> loaded_;
    std::vector<std::string> log_;
    std::atomic<int> active_{0};
};

auto never = [] { return false; };

} // namespace

TEST_CASE("a model in memory is admitted at once, without a server call") {
    FakeBackend b(2);
    b.start_with({"a"});
    Admission adm(b, {});
    adm.refresh();
    CHECK(b.calls == 1);
    Admit a = adm.admit("a", never);
    CHECK(a.verdict == Verdict::Admitted);
    CHECK_FALSE(a.loaded);
    CHECK(b.calls == 1);
    CHECK(adm.snapshot().in_flight.at("a") == 1);
    adm.release("a");
    CHECK(adm.snapshot().in_flight.empty());
}

TEST_CASE("a model not in memory is planned, its victims unloaded, then loaded") {
    FakeBackend b(1);
    b.start_with({"a"});
    std::vector<std::string> seen;
    Admission adm(b, {}, [&](const Happening& h) { seen.push_back(h.type + " " + h.model); });
    adm.refresh();
    Admit a = adm.admit("b", never);
    REQUIRE(a.verdict == Verdict::Admitted);
    CHECK(a.loaded);
    CHECK(a.evicted == std::vector<std::string>{"a"});
    CHECK(b.log() == std::vector<std::string>{"plan b", "unload a", "load b"});
    CHECK(seen == std::vector<std::string>{"evict a", "load b"});
    adm.release("b");
    // now in memory: the fast path
    CHECK(adm.admit("b", never).verdict == Verdict::Admitted);
    CHECK(b.log().size() == 3);
}

TEST_CASE("a refused plan unloads nothing; a missing model fails with its error kind") {
    FakeBackend b(1);
    b.start_with({"a"});
    Admission adm(b, {});
    adm.refresh();
    Admit r = adm.admit("huge", never);
    CHECK(r.verdict == Verdict::Refused);
    CHECK(r.message == "huge needs more than the whole budget");
    Admit m = adm.admit("missing", never);
    CHECK(m.verdict == Verdict::Failed);
    CHECK(m.error_kind == static_cast<int>(core::ErrorKind::NotFound));
    CHECK(b.count("unload") == 0);
    CHECK(b.count("load") == 0);
    CHECK(adm.snapshot().queued == 0);
}

TEST_CASE("a model with a request in flight is never evicted: the load waits for it") {
    FakeBackend b(1);
    b.start_with({"a"});
    Admission adm(b, {});
    adm.refresh();
    REQUIRE(adm.admit("a", never).verdict == Verdict::Admitted); // a busy
    auto waiting = std::async(std::launch::async, [&] { return adm.admit("b", never); });
    CHECK(waiting.wait_for(200ms) == std::future_status::timeout);
    CHECK(b.count("unload") == 0); // a is still there, busy
    adm.release("a");
    Admit w = waiting.get();
    CHECK(w.verdict == Verdict::Admitted);
    CHECK(w.evicted == std::vector<std::string>{"a"});
    CHECK(w.waited_seconds >= 0.15);
}

TEST_CASE("a busy model is kept as a pin: an idle one is evicted instead, without waiting") {
    FakeBackend b(2);
    b.start_with({"a", "x"});       // the fake evicts the oldest first: a
    Admission adm(b, {64, 1000ms}); // waiting for a would time out
    adm.refresh();
    REQUIRE(adm.admit("a", never).verdict == Verdict::Admitted); // a busy
    auto t0 = std::chrono::steady_clock::now();
    Admit c = adm.admit("c", never);
    CHECK(c.verdict == Verdict::Admitted);
    CHECK(c.evicted == std::vector<std::string>{"x"});
    CHECK(std::chrono::steady_clock::now() - t0 < 150ms);
    adm.release("a");
    adm.release("c");
}

TEST_CASE("a request for a loaded model is not held behind another model's swap") {
    FakeBackend b(2);
    b.start_with({"a", "x"});
    b.load_time = 300ms;
    Admission adm(b, {});
    adm.refresh();
    // c needs an eviction and a slow load; a is in memory throughout (LRU
    // evicts x first? the fake evicts the oldest: a). Keep a busy so x goes.
    REQUIRE(adm.admit("a", never).verdict == Verdict::Admitted);
    auto swapping = std::async(std::launch::async, [&] { return adm.admit("c", never); });
    std::this_thread::sleep_for(50ms);
    auto t0 = std::chrono::steady_clock::now();
    Admit fast = adm.admit("a", never); // during c's load
    CHECK(fast.verdict == Verdict::Admitted);
    CHECK(std::chrono::steady_clock::now() - t0 < 100ms);
    adm.release("a");
    adm.release("a");
    CHECK(swapping.get().verdict == Verdict::Admitted);
}

TEST_CASE("concurrent admissions decide one at a time and never overshoot") {
    FakeBackend b(2);
    Admission adm(b, {});
    adm.refresh();
    std::vector<std::future<Admit>> all;
    const char* models[] = {"m1", "m2", "m3", "m4", "m1", "m5", "m2", "m6"};
    for (const char* m : models)
        all.push_back(std::async(std::launch::async, [&adm, m] {
            Admit a = adm.admit(m, never);
            if (a.verdict == Verdict::Admitted) {
                std::this_thread::sleep_for(20ms);
                adm.release(m);
            }
            return a;
        }));
    for (auto& f : all)
        CHECK(f.get().verdict == Verdict::Admitted);
    CHECK(b.overlapping == 0);
    CHECK(b.max_loaded <= 2);
}

TEST_CASE("the queue is bounded, and a wait is bounded") {
    FakeBackend b(1);
    b.start_with({"a"});
    Admission adm(b, {1, 300ms});
    adm.refresh();
    REQUIRE(adm.admit("a", never).verdict == Verdict::Admitted); // a busy: b must wait
    auto first = std::async(std::launch::async, [&] { return adm.admit("b", never); });
    while (adm.snapshot().queued == 0)
        std::this_thread::sleep_for(1ms);
    Admit full = adm.admit("c", never);
    CHECK(full.verdict == Verdict::QueueFull);
    Admit late = first.get();
    CHECK(late.verdict == Verdict::TimedOut);
    CHECK(b.count("unload") == 0);
    adm.release("a");
}

TEST_CASE("a client that leaves while waiting starts no load") {
    FakeBackend b(1);
    b.start_with({"a"});
    Admission adm(b, {});
    adm.refresh();
    REQUIRE(adm.admit("a", never).verdict == Verdict::Admitted);
    std::atomic<bool> gone{false};
    auto waiting =
        std::async(std::launch::async, [&] { return adm.admit("b", [&] { return gone.load(); }); });
    std::this_thread::sleep_for(100ms);
    gone = true;
    CHECK(waiting.get().verdict == Verdict::ClientGone);
    adm.release("a");
    std::this_thread::sleep_for(100ms);
    CHECK(b.count("load") == 0);
    CHECK(b.count("unload") == 0);
    CHECK(adm.snapshot().queued == 0);
}

TEST_CASE("expire unloads idle models, never one in use, and only where serve holds expiry") {
    FakeBackend b(3);
    b.start_with({"a", "b", "c"});
    Admission adm(b, {});
    adm.refresh();
    REQUIRE(adm.admit("b", never).verdict == Verdict::Admitted); // b busy
    auto timeouts = [](const std::string& m) -> std::optional<std::chrono::seconds> {
        if (m == "c")
            return std::nullopt; // the server's timer
        return std::chrono::seconds(1);
    };
    adm.expire(timeouts); // idle for less than its second: stays
    CHECK(b.log().empty());
    adm.expire(timeouts, std::chrono::steady_clock::now() + 1100ms);
    CHECK(b.log() == std::vector<std::string>{"unload a"});
    auto snap = adm.snapshot();
    CHECK(snap.resident == std::set<std::string>{"b", "c"});
    adm.release("b");
}

TEST_CASE("a client's unload waits for the model's requests") {
    FakeBackend b(2);
    b.start_with({"a"});
    Admission adm(b, {});
    adm.refresh();
    REQUIRE(adm.admit("a", never).verdict == Verdict::Admitted);
    auto unloading = std::async(std::launch::async, [&] { return adm.unload("a", never); });
    CHECK(unloading.wait_for(150ms) == std::future_status::timeout);
    adm.release("a");
    CHECK(unloading.get().verdict == Verdict::Admitted);
    CHECK(b.log() == std::vector<std::string>{"unload a"});
    CHECK(adm.snapshot().resident.empty());
}

TEST_CASE("load_backoff: 1 s after the first failure, doubling, capped at 5 min") {
    CHECK(load_backoff(1) == 1000ms);
    CHECK(load_backoff(2) == 2000ms);
    CHECK(load_backoff(3) == 4000ms);
    CHECK(load_backoff(9) == 256000ms);
    CHECK(load_backoff(10) == 300000ms);
    CHECK(load_backoff(1000) == 300000ms);
}

TEST_CASE("a model whose load failed is not tried again before its backoff") {
    FakeBackend b(2);
    b.crashing.insert("bad");
    std::vector<Happening> seen;
    Admission adm(b, {}, [&](const Happening& h) { seen.push_back(h); });
    Admit first = adm.admit("bad", {});
    CHECK(first.verdict == Verdict::Failed);
    CHECK(first.message == "llama runner process has terminated");
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back().type == "fail");
    CHECK(seen.back().reason.find("not tried again for 1s") != std::string::npos);
    // A client retrying at once gets the backoff, and the server is not called.
    Admit again = adm.admit("bad", {});
    CHECK(again.verdict == Verdict::Backoff);
    CHECK(again.retry_after > 0);
    CHECK(again.retry_after <= 1.0);
    CHECK(again.message.find("bad's last load failed") != std::string::npos);
    CHECK(b.count("crash bad") == 1);
    auto snap = adm.snapshot();
    REQUIRE(snap.failing.count("bad"));
    CHECK(snap.failing["bad"].failures == 1);
    CHECK(snap.failing["bad"].error == "llama runner process has terminated");
    // Other models are not held back by it.
    CHECK(adm.admit("a", {}).verdict == Verdict::Admitted);
    // A model the server lacks is not a failed load: no backoff.
    CHECK(adm.admit("missing", {}).verdict == Verdict::Failed);
    CHECK(adm.admit("missing", {}).verdict == Verdict::Failed);
    CHECK_FALSE(adm.snapshot().failing.count("missing"));
}

TEST_CASE("relieve: unloads the backend's victims, never a model with requests in flight") {
    FakeBackend b(3);
    b.start_with({"a", "b", "c"});
    std::vector<Happening> seen;
    Admission adm(b, {}, [&](const Happening& h) { seen.push_back(h); });
    REQUIRE(adm.admit("a", {}).verdict == Verdict::Admitted); // a is busy
    b.pressure_level = "critical";
    b.pressure_victims = {"a", "b"};
    adm.relieve();
    CHECK(b.last_keep == std::set<std::string>{"a"});
    CHECK(b.count("unload a") == 0);
    CHECK(b.count("unload b") == 1);
    auto snap = adm.snapshot();
    CHECK(snap.pressure == "critical");
    CHECK_FALSE(snap.resident.count("b"));
    CHECK(snap.resident.count("a"));
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].type == "pressure");
    CHECK(seen[0].reason == "critical: RAM 1 GB free, under its min_free 4 GB");
    CHECK(seen[1].type == "evict");
    CHECK(seen[1].model == "b");
    // The same level again is no new happening.
    b.pressure_victims.clear();
    adm.relieve();
    CHECK(seen.size() == 2);
    adm.release("a");
}

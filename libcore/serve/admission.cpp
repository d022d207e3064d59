#include "serve/admission.hpp"

#include "error.hpp"

#include <algorithm>

namespace core::serve {

namespace {

constexpr std::chrono::milliseconds kLook{50}; // how often a waiter asks whether its client left

} // namespace

Admission::Admission(Backend& backend, AdmissionLimits limits, Notify notify)
    : backend_(backend), limits_(limits), notify_(std::move(notify)) {}

void Admission::refresh() {
    std::lock_guard d(decide_);
    std::vector<std::string> loaded;
    try {
        loaded = backend_.loaded();
    } catch (const std::exception&) {
        return; // the server is away: what is known stays
    }
    std::lock_guard lock(mutex_);
    resident_ = std::set<std::string>(loaded.begin(), loaded.end());
    auto now = Clock::now();
    for (const auto& m : resident_)
        last_used_.try_emplace(m, now); // idle from the first sight at least
    changed_.notify_all();
}

Admission::Turn Admission::wait_turn(std::unique_lock<std::mutex>& lock, uint64_t ticket,
                                     const std::function<bool()>& client_gone,
                                     Clock::time_point deadline) {
    while (queue_.front() != ticket) {
        if (client_gone && client_gone())
            return Turn::Gone;
        if (Clock::now() >= deadline)
            return Turn::Late;
        changed_.wait_for(lock, kLook);
    }
    return Turn::Mine;
}

void Admission::leave(uint64_t ticket) {
    auto it = std::find(queue_.begin(), queue_.end(), ticket);
    if (it != queue_.end())
        queue_.erase(it);
    changed_.notify_all();
}

bool Admission::wait_idle(std::unique_lock<std::mutex>& lock,
                          const std::vector<std::string>& models,
                          const std::function<bool()>& client_gone, Clock::time_point deadline) {
    auto busy = [&] {
        return std::any_of(models.begin(), models.end(), [&](const std::string& m) {
            auto it = in_flight_.find(m);
            return it != in_flight_.end() && it->second > 0;
        });
    };
    while (busy()) {
        if ((client_gone && client_gone()) || Clock::now() >= deadline)
            return false;
        changed_.wait_for(lock, kLook);
    }
    return true;
}

std::chrono::milliseconds load_backoff(int failures) {
    constexpr std::chrono::milliseconds kFirst{1000}, kMost{300000};
    auto wait = kFirst;
    for (int i = 1; i < failures && wait < kMost; ++i)
        wait *= 2;
    return std::min(wait, kMost);
}

std::optional<Admit> Admission::backing_off(const std::string& model) const {
    auto it = failed_.find(model);
    if (it == failed_.end())
        return std::nullopt;
    auto left = it->second.retry_at - Clock::now();
    if (left <= Clock::duration::zero())
        return std::nullopt;
    Admit a;
    a.model = model;
    a.verdict = Verdict::Backoff;
    a.retry_after = std::chrono::duration<double>(left).count();
    a.message = model + "'s last " +
                (it->second.failures == 1 ? std::string("load")
                                          : std::to_string(it->second.failures) + " loads") +
                " failed (" + it->second.error + ")";
    return a;
}

Admit Admission::decide(std::unique_lock<std::mutex>& lock, const std::string& model,
                        const std::function<bool()>& client_gone, Clock::time_point deadline) {
    Admit a;
    a.model = model;
    if (auto b = backing_off(model))
        return *b; // failed while this request waited its turn
    auto fail = [&](const std::exception& e) {
        a.verdict = Verdict::Failed;
        a.message = e.what();
        if (auto* err = dynamic_cast<const Error*>(&e))
            a.error_kind = static_cast<int>(err->kind());
        bool missing = a.error_kind == static_cast<int>(ErrorKind::NotFound);
        note(missing ? "missing" : "fail", model, a.message);
        return a;
    };
    while (true) {
        if (client_gone && client_gone()) {
            a.verdict = Verdict::ClientGone;
            return a;
        }
        lock.unlock();
        std::unique_lock d(decide_);
        std::vector<std::string> loaded;
        Backend::Plan plan;
        std::vector<std::string> busy;
        try {
            loaded = backend_.loaded();
            if (std::find(loaded.begin(), loaded.end(), model) == loaded.end()) {
                std::set<std::string> in_use;
                {
                    std::lock_guard g(mutex_);
                    for (const auto& [m, n] : in_flight_)
                        if (n > 0)
                            in_use.insert(m);
                }
                plan = backend_.plan(model, in_use);
                if (plan.refusal && !in_use.empty()) {
                    // Only the busy models stand in the way? Then wait for
                    // them; if the plan fails without them too, refuse.
                    Backend::Plan all = backend_.plan(model, {});
                    if (!all.refusal) {
                        for (const auto& v : all.victims)
                            if (in_use.count(v))
                                busy.push_back(v);
                        plan = std::move(all);
                    }
                }
            }
        } catch (const std::exception& e) {
            lock.lock();
            return fail(e);
        }
        lock.lock();
        resident_ = std::set<std::string>(loaded.begin(), loaded.end());
        if (resident_.count(model) && !evicting_.count(model)) {
            ++in_flight_[model];
            return a; // loaded meanwhile (by another request, or by someone else)
        }
        if (plan.refusal) {
            a.verdict = Verdict::Refused;
            a.message = *plan.refusal;
            note("refuse", model, a.message);
            return a;
        }
        for (const auto& v : plan.victims) // busy since the plan was made
            if (auto it = in_flight_.find(v); it != in_flight_.end() && it->second > 0 &&
                                              std::find(busy.begin(), busy.end(), v) == busy.end())
                busy.push_back(v);
        if (!busy.empty()) {
            // Never evict a model in use: wait until it is idle, then plan
            // again (what is loaded may have changed meanwhile).
            d.unlock();
            if (!wait_idle(lock, busy, client_gone, deadline)) {
                a.verdict = client_gone && client_gone() ? Verdict::ClientGone : Verdict::TimedOut;
                if (a.verdict == Verdict::TimedOut)
                    a.message = "waited for " + busy.front() + " to finish its requests";
                return a;
            }
            continue;
        }
        if (client_gone && client_gone()) {
            a.verdict = Verdict::ClientGone;
            return a;
        }
        for (const auto& v : plan.victims)
            evicting_.insert(v);
        ++in_flight_[model]; // nobody evicts it while it loads
        lock.unlock();
        size_t done = 0;
        bool loading = false;
        try {
            for (; done < plan.victims.size(); ++done) {
                const auto& v = plan.victims[done];
                std::string reason = done < plan.reasons.size() ? plan.reasons[done] : "";
                backend_.unload(v, reason);
                note("evict", v, reason);
                a.evicted.push_back(v);
                std::lock_guard g(mutex_);
                resident_.erase(v);
                evicting_.erase(v);
            }
            loading = true;
            backend_.load(model);
        } catch (const std::exception& e) {
            lock.lock();
            for (size_t i = done; i < plan.victims.size(); ++i)
                evicting_.erase(plan.victims[i]);
            if (--in_flight_[model] <= 0)
                in_flight_.erase(model);
            changed_.notify_all();
            auto* err = dynamic_cast<const Error*>(&e);
            if (loading && !(err && err->kind() == ErrorKind::NotFound)) {
                auto& f = failed_[model];
                ++f.failures;
                f.error = e.what();
                auto wait = load_backoff(f.failures);
                f.retry_at = Clock::now() + wait;
                a.verdict = Verdict::Failed;
                a.message = e.what();
                a.error_kind = err ? static_cast<int>(err->kind()) : -1;
                note("fail", model,
                     a.message + "; not tried again for " + std::to_string(wait.count() / 1000) +
                         "s");
                return a;
            }
            return fail(e);
        }
        lock.lock();
        failed_.erase(model);
        resident_.insert(model);
        last_used_[model] = Clock::now();
        a.loaded = true;
        note("load", model, "");
        return a;
    }
}

Admit Admission::admit(const std::string& model, const std::function<bool()>& client_gone) {
    auto start = Clock::now();
    auto deadline = start + limits_.wait_timeout;
    std::unique_lock lock(mutex_);
    auto ready = [&] { return resident_.count(model) && !evicting_.count(model); };
    Admit a;
    a.model = model;
    if (ready()) {
        ++in_flight_[model];
        return a;
    }
    if (auto b = backing_off(model))
        return *b;
    if (queue_.size() >= limits_.queue_max) {
        a.verdict = Verdict::QueueFull;
        a.message = std::to_string(queue_.size()) + " requests are waiting already";
        return a;
    }
    uint64_t ticket = next_ticket_++;
    queue_.push_back(ticket);
    while (queue_.front() != ticket) {
        // Loaded for another request meanwhile: go at once, out of turn.
        if (ready()) {
            ++in_flight_[model];
            leave(ticket);
            a.waited_seconds = std::chrono::duration<double>(Clock::now() - start).count();
            return a;
        }
        bool gone = client_gone && client_gone();
        if (gone || Clock::now() >= deadline) {
            leave(ticket);
            a.verdict = gone ? Verdict::ClientGone : Verdict::TimedOut;
            a.message = "waited " + std::to_string(limits_.wait_timeout.count() / 1000) +
                        "s for its turn to load a model";
            return a;
        }
        changed_.wait_for(lock, kLook);
    }
    a = decide(lock, model, client_gone, deadline);
    leave(ticket);
    a.waited_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return a;
}

void Admission::release(const std::string& model) {
    std::lock_guard lock(mutex_);
    auto it = in_flight_.find(model);
    if (it != in_flight_.end() && --it->second <= 0)
        in_flight_.erase(it);
    last_used_[model] = Clock::now();
    changed_.notify_all();
}

Admit Admission::unload(const std::string& model, const std::function<bool()>& client_gone) {
    auto deadline = Clock::now() + limits_.wait_timeout;
    Admit a;
    a.model = model;
    std::unique_lock lock(mutex_);
    uint64_t ticket = next_ticket_++;
    queue_.push_back(ticket);
    Turn t = wait_turn(lock, ticket, client_gone, deadline);
    if (t != Turn::Mine || !wait_idle(lock, {model}, client_gone, deadline)) {
        leave(ticket);
        a.verdict = client_gone && client_gone() ? Verdict::ClientGone : Verdict::TimedOut;
        a.message = "waited for " + model + " to finish its requests";
        return a;
    }
    evicting_.insert(model);
    lock.unlock();
    try {
        std::lock_guard d(decide_);
        backend_.unload(model, "a client asked to unload it");
        note("unload", model, "a client asked to unload it");
    } catch (const std::exception& e) {
        a.verdict = Verdict::Failed;
        a.message = e.what();
        if (auto* err = dynamic_cast<const Error*>(&e))
            a.error_kind = static_cast<int>(err->kind());
    }
    lock.lock();
    evicting_.erase(model);
    if (a.verdict == Verdict::Admitted)
        resident_.erase(model);
    leave(ticket);
    return a;
}

void Admission::expire(
    const std::function<std::optional<std::chrono::seconds>(const std::string&)>& idle_timeout,
    Clock::time_point now) {
    std::unique_lock d(decide_);
    std::vector<std::string> loaded;
    try {
        loaded = backend_.loaded();
    } catch (const std::exception&) {
        return;
    }
    std::vector<std::pair<std::string, std::string>> victims;
    {
        std::lock_guard lock(mutex_);
        resident_ = std::set<std::string>(loaded.begin(), loaded.end());
        for (const auto& m : resident_) {
            auto used = last_used_.try_emplace(m, now).first->second;
            if (in_flight_.count(m) || evicting_.count(m))
                continue;
            auto limit = idle_timeout(m);
            if (!limit || limit->count() <= 0 || now - used <= *limit)
                continue;
            auto idle = std::chrono::duration_cast<std::chrono::seconds>(now - used).count();
            victims.emplace_back(m, "idle for " + std::to_string(idle) + "s, longer than its " +
                                        std::to_string(limit->count()) + "s idle timeout");
            evicting_.insert(m);
        }
    }
    for (const auto& [m, reason] : victims) {
        bool ok = true;
        try {
            backend_.unload(m, reason);
        } catch (const std::exception&) {
            ok = false;
        }
        if (ok)
            note("expire", m, reason);
        std::lock_guard lock(mutex_);
        evicting_.erase(m);
        if (ok)
            resident_.erase(m);
    }
    std::lock_guard lock(mutex_);
    changed_.notify_all();
}

void Admission::run_exclusive(const std::function<void()>& f) {
    {
        std::lock_guard d(decide_);
        f();
    }
    refresh();
}

size_t Admission::relieve() {
    std::unique_lock d(decide_);
    std::set<std::string> busy;
    {
        std::lock_guard g(mutex_);
        for (const auto& [m, n] : in_flight_)
            if (n > 0)
                busy.insert(m);
    }
    Backend::Relief r;
    try {
        r = backend_.relieve(busy);
    } catch (const std::exception& e) {
        note("fail", "", std::string("looking at memory pressure: ") + e.what());
        return 0;
    }
    {
        std::lock_guard g(mutex_);
        bool changed = r.level != pressure_;
        pressure_ = r.level;
        pressure_reason_ = r.reason;
        if (changed && !r.level.empty())
            note("pressure", "", r.level + (r.reason.empty() ? "" : ": " + r.reason));
    }
    size_t unloaded_count = 0;
    for (size_t i = 0; i < r.victims.size(); ++i) {
        const auto& v = r.victims[i];
        {
            std::lock_guard g(mutex_);
            if (auto it = in_flight_.find(v); it != in_flight_.end() && it->second > 0)
                continue; // admitted since the plan: never evicted while busy
            evicting_.insert(v);
        }
        std::string reason = i < r.reasons.size() ? r.reasons[i] : "memory pressure";
        bool unloaded = false;
        try {
            backend_.unload(v, reason);
            unloaded = true;
            ++unloaded_count;
            note("evict", v, reason);
        } catch (const std::exception& e) {
            note("fail", v, e.what());
        }
        std::lock_guard g(mutex_);
        evicting_.erase(v);
        if (unloaded)
            resident_.erase(v);
        changed_.notify_all();
    }
    return unloaded_count;
}

void Admission::preload(double at) {
    std::unique_lock d(decide_);
    std::vector<Backend::Preloaded> done;
    try {
        done = backend_.preload(at);
    } catch (const std::exception& e) {
        note("fail", "", std::string("preloading: ") + e.what());
    }
    std::lock_guard g(mutex_);
    for (const auto& p : done) {
        if (!p.ok) {
            note("fail", p.model, p.reason);
            continue;
        }
        resident_.insert(p.model);
        last_used_[p.model] = Clock::now(); // idle from now, not from the last request
        note("load", p.model, p.reason);
    }
    changed_.notify_all();
}

Admission::Snapshot Admission::snapshot() const {
    std::lock_guard lock(mutex_);
    Snapshot s{in_flight_, resident_, queue_.size(), {}, pressure_, pressure_reason_};
    auto now = Clock::now();
    for (const auto& [m, f] : failed_)
        s.failing[m] = {f.failures,
                        std::max(0.0, std::chrono::duration<double>(f.retry_at - now).count()),
                        f.error};
    return s;
}

} // namespace core::serve

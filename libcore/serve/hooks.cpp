#include "serve/hooks.hpp"

#include "util/process.hpp"

namespace core::serve {

std::string hook_for(const std::string& type) {
    if (type == "load")
        return "on_load";
    if (type == "unload" || type == "expire")
        return "on_unload";
    if (type == "evict")
        return "on_evict";
    if (type == "pressure")
        return "on_pressure";
    if (type == "refuse")
        return "on_refuse";
    if (type == "fail" || type == "missing")
        return "on_failure";
    return "";
}

Hooks::Hooks(std::vector<std::string> env, std::string path_env,
             std::function<void(const std::string&)> log)
    : env_(std::move(env)), path_env_(std::move(path_env)), log_(std::move(log)) {}

Hooks::~Hooks() {
    size_t dropped = 0;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        dropped = waiting_.size();
        waiting_.clear();
    }
    wake_.notify_all();
    for (auto& t : workers_)
        t.join();
    if (dropped && log_)
        log_(std::to_string(dropped) + " hooks not run: serve is stopping");
}

void Hooks::fire(const config::HooksConfig& hooks, const Happening& h, uint64_t id,
                 const std::string& line) {
    std::string name = hook_for(h.type);
    auto it = hooks.commands.find(name);
    if (it == hooks.commands.end())
        return;
    Job job{name, it->second, env_, line + "\n",
            std::chrono::duration_cast<std::chrono::milliseconds>(hooks.timeout)};
    // serve's environment, with the event's own variables in place of any
    // of the same name.
    auto set = [&job](const std::string& var, const std::string& value) {
        std::string prefix = var + "=";
        std::erase_if(job.env, [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
        job.env.push_back(prefix + value);
    };
    set("MODELCTL_EVENT", h.type);
    set("MODELCTL_MODEL", h.model);
    set("MODELCTL_REASON", h.reason);
    set("MODELCTL_EVENT_ID", std::to_string(id));
    set("MODELCTL_SERVER", h.server);
    set("MODELCTL_ENDPOINT", h.endpoint);
    std::string dropped;
    {
        std::lock_guard lock(mutex_);
        if (stopping_)
            return;
        if (waiting_.size() >= kMaxWaiting) {
            dropped = name;
        } else {
            waiting_.push_back(std::move(job));
            if (idle_ == 0 && workers_.size() < hooks.max_running)
                workers_.emplace_back([this] { work(); });
            else
                wake_.notify_one();
        }
    }
    if (!dropped.empty() && log_)
        log_("hook " + dropped + " dropped: " + std::to_string(kMaxWaiting) +
             " hooks are waiting already");
}

void Hooks::work() {
    std::unique_lock lock(mutex_);
    while (true) {
        ++idle_;
        wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
        --idle_;
        if (waiting_.empty())
            return; // stopping
        Job job = std::move(waiting_.front());
        waiting_.pop_front();
        lock.unlock();
        util::RunOptions o;
        o.path_env = path_env_;
        o.timeout = job.timeout;
        o.input = job.input;
        o.env = job.env;
        o.max_output = 64 << 10; // a hook's stdout is not read, only bounded
        std::string why;
        if (!util::run_program(job.argv, o, why) && log_)
            log_("hook " + job.name + " failed: " + why);
        lock.lock();
    }
}

} // namespace core::serve

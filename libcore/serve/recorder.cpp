#include "serve/recorder.hpp"

namespace core::serve {

Recorder::Recorder(Write write, std::chrono::milliseconds interval, size_t batch,
                   std::function<void(const std::string&)> on_error)
    : write_(std::move(write)), interval_(interval), batch_(batch ? batch : 1),
      on_error_(std::move(on_error)), thread_([this] { loop(); }) {}

Recorder::~Recorder() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    flush();
}

void Recorder::add(store::Event e) {
    std::lock_guard lock(mutex_);
    if (waiting_.size() >= kMaxWaiting) {
        waiting_.erase(waiting_.begin());
        ++counts_.dropped;
    }
    waiting_.push_back(std::move(e));
    if (waiting_.size() >= batch_)
        wake_.notify_all();
}

void Recorder::flush() {
    std::unique_lock lock(mutex_);
    write_waiting(lock);
}

Recorder::Counts Recorder::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

bool Recorder::write_waiting(std::unique_lock<std::mutex>& lock) {
    if (waiting_.empty())
        return true;
    std::vector<store::Event> events;
    events.swap(waiting_);
    lock.unlock();
    bool ok = true;
    std::string error;
    {
        std::lock_guard w(writing_);
        try {
            write_(events);
        } catch (const std::exception& e) {
            ok = false;
            error = e.what();
        }
    }
    if (!ok && on_error_)
        on_error_(error);
    lock.lock();
    if (ok) {
        counts_.recorded += events.size();
        ++counts_.writes;
    } else {
        // Kept for the next try, before what came meanwhile.
        events.insert(events.end(), std::make_move_iterator(waiting_.begin()),
                      std::make_move_iterator(waiting_.end()));
        waiting_.swap(events);
        while (waiting_.size() > kMaxWaiting) {
            waiting_.erase(waiting_.begin());
            ++counts_.dropped;
        }
    }
    return ok;
}

void Recorder::loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, interval_, [this] { return stopping_ || waiting_.size() >= batch_; });
        if (stopping_)
            break;
        if (!write_waiting(lock))
            wake_.wait_for(lock, interval_, [this] { return stopping_; }); // back off
    }
}

} // namespace core::serve

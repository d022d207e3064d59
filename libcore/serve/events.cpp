#include "serve/events.hpp"

namespace core::serve {

EventHub::Event EventHub::publish(const Happening& h) {
    Event e;
    {
        std::lock_guard lock(mutex_);
        e = {next_id_++, util::now(), h};
        events_.push_back(e);
        while (events_.size() > keep_)
            events_.pop_front();
    }
    changed_.notify_all();
    return e;
}

uint64_t EventHub::last_id() const {
    std::lock_guard lock(mutex_);
    return next_id_ - 1;
}

std::vector<EventHub::Event> EventHub::after(uint64_t after, std::chrono::milliseconds timeout,
                                             uint64_t& missed) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return closed_ || next_id_ - 1 > after; });
    missed = 0;
    std::vector<Event> out;
    if (closed_)
        return out;
    if (!events_.empty() && events_.front().id > after + 1)
        missed = events_.front().id - after - 1;
    for (const auto& e : events_)
        if (e.id > after)
            out.push_back(e);
    return out;
}

void EventHub::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    changed_.notify_all();
}

bool EventHub::closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

} // namespace core::serve

#pragma once
// The event stream of serve's management API (GET /modelctl/v1/events):
// what admission and the management routes did (load, unload, eviction with
// its reason, refusal), numbered from 1. The last `keep` events are kept, so
// a listener that reconnects with the id it saw last (SSE's Last-Event-ID)
// misses nothing still kept, and one that falls behind learns how many it
// missed. Publishing never waits for a listener.

#include "serve/admission.hpp"
#include "util/timestamp.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace core::serve {

class EventHub {
public:
    struct Event {
        uint64_t id = 0;
        util::Timestamp time;
        Happening what;
    };

    explicit EventHub(size_t keep = 256) : keep_(keep ? keep : 1) {}

    // Numbers and keeps `h`; the event as kept.
    Event publish(const Happening& h);
    // The id of the newest event (0: none yet).
    uint64_t last_id() const;
    // The kept events newer than `after`, oldest first, waiting up to
    // `timeout` for one (empty: none came, or closed()). `missed` is set to
    // how many events newer than `after` are no longer kept.
    std::vector<Event> after(uint64_t after, std::chrono::milliseconds timeout, uint64_t& missed);
    // Ends every wait now and from now on (serve is stopping).
    void close();
    bool closed() const;

private:
    size_t keep_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Event> events_;
    uint64_t next_id_ = 1;
    bool closed_ = false;
};

} // namespace core::serve

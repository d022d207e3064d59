#pragma once
// Group commit for the uses serve records: events wait in memory and go to
// the store together, at most every `interval` or once `batch` are waiting,
// so 100 requests a second cost a few store transactions a second, not 100.
// flush() writes what waits now; the destructor flushes, so nothing waiting
// is lost when serve stops. A write that fails is reported to `on_error`
// and its events kept for the next try (at most kMaxWaiting: the oldest are
// dropped past it, and counted).

#include "store/state.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace core::serve {

class Recorder {
public:
    using Write = std::function<void(const std::vector<store::Event>&)>;
    static constexpr size_t kMaxWaiting = 100000;

    Recorder(Write write, std::chrono::milliseconds interval, size_t batch,
             std::function<void(const std::string&)> on_error = {});
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    void add(store::Event e);
    void flush();

    struct Counts {
        uint64_t recorded = 0; // events written
        uint64_t writes = 0;   // store transactions
        uint64_t dropped = 0;
    };
    Counts counts() const;

private:
    void loop();
    bool write_waiting(std::unique_lock<std::mutex>& lock);

    Write write_;
    std::chrono::milliseconds interval_;
    size_t batch_;
    std::function<void(const std::string&)> on_error_;
    mutable std::mutex mutex_;
    std::mutex writing_; // one write at a time, in order
    std::condition_variable wake_;
    std::vector<store::Event> waiting_;
    Counts counts_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace core::serve

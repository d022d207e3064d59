#pragma once
// A one-line progress bar on stderr for transfers (pull), drawn at most ten
// times a second. Does nothing when disabled (not a terminal, -q, --json).

#include <chrono>
#include <cstdint>
#include <string>

namespace modelctl {

class ProgressBar {
public:
    explicit ProgressBar(bool enabled) : enabled_(enabled) {}
    ~ProgressBar() { clear(); }
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    // "pulling 8eeb52dfb3bb  45% [#########           ] 0.9/2.0 GB  210 MB/s";
    // total 0: the label alone (a step without a size).
    void update(const std::string& label, uint64_t completed, uint64_t total);
    void clear(); // erases the line

private:
    bool enabled_;
    bool drawn_ = false;
    std::string label_;
    std::chrono::steady_clock::time_point last_draw_{};
    // For the rate: bytes of the current label at the first sight of it.
    std::chrono::steady_clock::time_point since_{};
    uint64_t since_bytes_ = 0;
};

} // namespace modelctl

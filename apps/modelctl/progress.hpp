#pragma once
// A one-line spinner with elapsed time on stderr, for long operations on a
// terminal. Does nothing when disabled (not a terminal, -q, --json, cron).

#include <atomic>
#include <string>
#include <thread>

namespace modelctl {

class Progress {
public:
    explicit Progress(bool enabled) : enabled_(enabled) {}
    ~Progress() { stop(); }
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    void start(const std::string& label);
    void stop(); // erases the line

private:
    bool enabled_;
    std::atomic<bool> running_{false};
    std::thread thread_;
    std::string label_;
};

} // namespace modelctl

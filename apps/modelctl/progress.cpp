#include "progress.hpp"

#include <chrono>
#include <cstdio>

namespace modelctl {

void Progress::start(const std::string& label) {
    stop();
    if (!enabled_)
        return;
    label_ = label;
    running_ = true;
    thread_ = std::thread([this] {
        static const char* frames[] = {"|", "/", "-", "\\"};
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; running_; ++i) {
            double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::fprintf(stderr, "\r\033[K%s %s (%.1fs)", frames[i % 4], label_.c_str(), s);
            std::fflush(stderr);
            for (int k = 0; k < 10 && running_; ++k)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::fprintf(stderr, "\r\033[K");
        std::fflush(stderr);
    });
}

void Progress::stop() {
    running_ = false;
    if (thread_.joinable())
        thread_.join();
}

} // namespace modelctl

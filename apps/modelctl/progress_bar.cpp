#include "progress_bar.hpp"

#include "util/size.hpp"

#include <algorithm>
#include <cstdio>

namespace modelctl {

void ProgressBar::update(const std::string& label, uint64_t completed, uint64_t total) {
    if (!enabled_)
        return;
    auto now = std::chrono::steady_clock::now();
    bool new_label = label != label_;
    if (new_label) {
        label_ = label;
        since_ = now;
        since_bytes_ = completed;
    } else if (now - last_draw_ < std::chrono::milliseconds(100) && completed < total) {
        return; // a new step, and a finished one, are always drawn
    }
    last_draw_ = now;
    std::string line = label;
    if (total > 0) {
        constexpr int kWidth = 24;
        double f = static_cast<double>(std::min(completed, total)) / static_cast<double>(total);
        int filled = static_cast<int>(f * kWidth);
        char pct[16];
        std::snprintf(pct, sizeof pct, " %3d%% [", static_cast<int>(f * 100));
        line += pct + std::string(static_cast<size_t>(filled), '#') +
                std::string(static_cast<size_t>(kWidth - filled), ' ') + "] " +
                core::util::format_size(completed) + "/" + core::util::format_size(total);
        double secs = std::chrono::duration<double>(now - since_).count();
        if (secs > 0.2 && completed > since_bytes_)
            line += "  " +
                    core::util::format_size(static_cast<uint64_t>(
                        static_cast<double>(completed - since_bytes_) / secs)) +
                    "/s";
    }
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressBar::clear() {
    if (!drawn_)
        return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
}

} // namespace modelctl

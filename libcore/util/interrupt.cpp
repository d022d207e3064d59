#include "util/interrupt.hpp"

#include "error.hpp"

#include <atomic>
#include <csignal>
#include <string>

namespace core::util {

namespace {

// Lock-free atomics are safe in a signal handler, and read from the
// watchdog threads without a race.
std::atomic<int> g_count{0};
static_assert(std::atomic<int>::is_always_lock_free);
// Signals already seen by the innermost CleanupScope.
std::atomic<int> g_allowed{0};

extern "C" void modelctl_on_signal(int) {
    g_count.fetch_add(1);
}

std::atomic<int> g_hangups{0};

extern "C" void modelctl_on_hangup(int) {
    g_hangups.fetch_add(1);
}

} // namespace

void install_interrupt_handlers() {
    struct sigaction sa {};
    sa.sa_handler = modelctl_on_signal;
    sigemptyset(&sa.sa_mask);
    // SA_RESTART: blocking calls go on, and whoever waits looks at the count;
    // SA_RESETHAND: the next signal acts as if none were caught.
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

void install_hangup_handler() {
    struct sigaction sa {};
    sa.sa_handler = modelctl_on_hangup;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; // every SIGHUP counts, not only the first
    sigaction(SIGHUP, &sa, nullptr);
}

int hangup_count() {
    return g_hangups.load();
}

int interrupt_count() {
    return g_count.load();
}

bool interrupted() {
    return g_count.load() > g_allowed.load();
}

void throw_if_interrupted(const char* what) {
    if (interrupted())
        throw Error(ErrorKind::Interrupted, std::string("interrupted ") + what);
}

CleanupScope::CleanupScope() : saved_(g_allowed.exchange(g_count.load())) {}

CleanupScope::~CleanupScope() {
    g_allowed = saved_;
}

} // namespace core::util

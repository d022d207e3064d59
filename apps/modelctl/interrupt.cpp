#include "interrupt.hpp"

#include <csignal>

namespace modelctl {

namespace {

volatile std::sig_atomic_t g_requested = 0;
struct sigaction g_old_int, g_old_term;

extern "C" void on_signal(int) {
    g_requested = 1;
}

} // namespace

Interrupt::Interrupt() {
    g_requested = 0;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    // SA_RESTART: a read in progress goes on (the operation polls the flag
    // between reads); SA_RESETHAND: the next signal acts as if none were caught.
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(SIGINT, &sa, &g_old_int);
    sigaction(SIGTERM, &sa, &g_old_term);
}

Interrupt::~Interrupt() {
    sigaction(SIGINT, &g_old_int, nullptr);
    sigaction(SIGTERM, &g_old_term, nullptr);
}

bool Interrupt::requested() const {
    return g_requested != 0;
}

} // namespace modelctl

#pragma once
// Ctrl-C and SIGTERM as a request to stop, for every command alike.
//
// The app installs the handlers once. A signal then only counts; work in
// progress notices: an HTTP request in flight is cancelled at once (its
// watchdog looks every few milliseconds, see http/client.hpp), a new request
// is refused, a wait for the store lock gives up, each with
// Error{Interrupted} (exit 130). Code that must undo what it began after an
// interruption (a pull deletes the tag it made, a load unloads what it
// loaded) does so inside a CleanupScope, where requests run again, bounded by
// their own deadlines. The second signal ends the process at once
// (SA_RESETHAND), for an operation that does not come back.

namespace core::util {

// Installs the SIGINT and SIGTERM handlers (idempotent).
void install_interrupt_handlers();

// Signals caught so far.
int interrupt_count();

// Whether work should stop now: a signal arrived that the current
// CleanupScope (if any) has not already seen.
bool interrupted();

// Throws Error{Interrupted} naming `what` when interrupted().
void throw_if_interrupted(const char* what);

// While alive, interrupted() is false until another signal arrives.
// SIGHUP as a request to read the configuration again (serve installs it;
// other commands keep the default, which ends them). Only counts.
void install_hangup_handler();
int hangup_count();

class CleanupScope {
public:
    CleanupScope();
    ~CleanupScope();
    CleanupScope(const CleanupScope&) = delete;
    CleanupScope& operator=(const CleanupScope&) = delete;

private:
    int saved_;
};

} // namespace core::util

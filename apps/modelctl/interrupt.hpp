#pragma once
// Ctrl-C for operations that must stop cleanly (a pull undoes what it began).
// While an Interrupt lives, SIGINT and SIGTERM only set a flag the operation
// polls; the second one ends the process as usual, for an operation that
// does not come back.

namespace modelctl {

class Interrupt {
public:
    Interrupt();
    ~Interrupt(); // restores the handlers there were
    Interrupt(const Interrupt&) = delete;
    Interrupt& operator=(const Interrupt&) = delete;

    bool requested() const;
};

} // namespace modelctl

#pragma once
// The one exception type libcore throws. The kind decides the exit code (the
// mapping lives in apps/modelctl/errors.cpp); the hint is an optional second
// sentence telling the user what to do next.

#include <stdexcept>
#include <string>

namespace core {

enum class ErrorKind {
    Failed,       // the operation failed (generic)
    Usage,        // bad input from the user
    Unreachable,  // the server could not be reached (refused, timeout, DNS)
    NotFound,     // the model is not installed on the server
    Busy,         // the server stayed busy (503) after bounded retries
    OutOfMemory,  // the server could not fit the model
    Refused,      // refused by policy
    Protocol,     // the server answered something we cannot understand
    Store,        // the local store is unusable (corrupt, newer, locked)
    Interrupted,  // stopped by the user (Ctrl-C) before it was done
    Unauthorized, // the server refused the credentials (401/403): none sent, or a wrong one
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message, std::string hint = {})
        : std::runtime_error(message), kind_(kind), hint_(std::move(hint)) {}

    ErrorKind kind() const { return kind_; }
    const std::string& hint() const { return hint_; }

private:
    ErrorKind kind_;
    std::string hint_;
};

} // namespace core

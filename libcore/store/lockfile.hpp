#pragma once
// An exclusive advisory lock (flock) on a file, held for the object's life.
// The kernel releases it when the process dies, so a crashed modelctl never
// leaves a stale lock behind.

#include <chrono>
#include <filesystem>
#include <memory>

namespace core::store {

class LockFile {
public:
    // Creates the file (0600) if needed and waits up to `timeout` for the lock;
    // throws Error{Store} when it cannot be had in time.
    LockFile(const std::filesystem::path& path, std::chrono::milliseconds timeout);
    // Takes the lock only if it is free now: nullptr when another process
    // holds it. Throws Error{Store} when the file cannot be opened.
    static std::unique_ptr<LockFile> try_acquire(const std::filesystem::path& path);
    ~LockFile();
    LockFile(const LockFile&) = delete;
    LockFile& operator=(const LockFile&) = delete;

private:
    explicit LockFile(int fd) : fd_(fd) {}
    int fd_ = -1;
};

} // namespace core::store

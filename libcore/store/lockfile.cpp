#include "store/lockfile.hpp"

#include "error.hpp"
#include "util/interrupt.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace core::store {

LockFile::LockFile(const std::filesystem::path& path, std::chrono::milliseconds timeout) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0)
        throw Error(ErrorKind::Store,
                    "cannot open lock file " + path.string() + ": " + std::strerror(errno));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto wait = std::chrono::milliseconds(1);
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int err = errno;
            ::close(fd_);
            throw Error(ErrorKind::Store,
                        "cannot lock " + path.string() + ": " + std::strerror(err));
        }
        if (util::interrupted()) {
            ::close(fd_);
            throw Error(ErrorKind::Interrupted, "interrupted while waiting for the store lock");
        }
        if (std::chrono::steady_clock::now() + wait > deadline) {
            ::close(fd_);
            throw Error(ErrorKind::Store,
                        "the store is locked by another modelctl (waited " +
                            std::to_string(timeout.count()) + " ms for " + path.string() + ")",
                        "try again when the other modelctl has finished");
        }
        std::this_thread::sleep_for(wait);
        // flock is not a queue: a waiter that sleeps long misses the moments
        // the lock is free and can starve behind newcomers. Look often.
        wait = std::min(wait * 2, std::chrono::milliseconds(2));
    }
}

std::unique_ptr<LockFile> LockFile::try_acquire(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        throw Error(ErrorKind::Store,
                    "cannot open lock file " + path.string() + ": " + std::strerror(errno));
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        if (err == EINTR)
            continue;
        ::close(fd);
        if (err == EWOULDBLOCK)
            return nullptr;
        throw Error(ErrorKind::Store, "cannot lock " + path.string() + ": " + std::strerror(err));
    }
    return std::unique_ptr<LockFile>(new LockFile(fd));
}

LockFile::~LockFile() {
    if (fd_ >= 0)
        ::close(fd_); // closing releases the flock
}

} // namespace core::store

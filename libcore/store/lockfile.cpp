#include "store/lockfile.hpp"

#include "error.hpp"

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
        if (std::chrono::steady_clock::now() + wait > deadline) {
            ::close(fd_);
            throw Error(ErrorKind::Store,
                        "the store is locked by another modelctl (waited " +
                            std::to_string(timeout.count()) + " ms for " + path.string() + ")",
                        "try again when the other modelctl has finished");
        }
        std::this_thread::sleep_for(wait);
        wait = std::min(wait * 2, std::chrono::milliseconds(20));
    }
}

LockFile::~LockFile() {
    if (fd_ >= 0)
        ::close(fd_); // closing releases the flock
}

} // namespace core::store

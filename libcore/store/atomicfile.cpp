#include "store/atomicfile.hpp"

#include "error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace core::store {

namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& p) {
    throw Error(ErrorKind::Store,
                "cannot " + what + " " + p.string() + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view data, const std::filesystem::path& p) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail("write", p);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

void fsync_dir(const std::filesystem::path& path) {
    auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        fail("open directory", dir);
    int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc != 0)
        fail("fsync directory", dir);
}

} // namespace

void write_atomically(const std::filesystem::path& path, std::string_view content) {
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        fail("create", tmp);
    try {
        write_all(fd, content, tmp);
        if (::fsync(fd) != 0)
            fail("fsync", tmp);
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        errno = err;
        fail("replace", path);
    }
    fsync_dir(path);
}

void append_durably(const std::filesystem::path& path, std::string_view content) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        fail("open", path);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int err = S_ISREG(st.st_mode) ? errno : EINVAL;
        ::close(fd);
        errno = err;
        fail("append to", path);
    }
    const off_t before = st.st_size;
    try {
        // A record cut short earlier (a crash, a full disk) must not swallow
        // this one: start on a line of its own.
        char last = '\n';
        if (before > 0 && ::pread(fd, &last, 1, before - 1) != 1)
            fail("read", path);
        if (last != '\n')
            write_all(fd, "\n", path);
        write_all(fd, content, path);
        if (::fdatasync(fd) != 0)
            fail("fsync", path);
    } catch (...) {
        // Leave the file as it was: a torn record would be read as garbage,
        // and the caller reports the failure.
        int err = errno;
        if (::ftruncate(fd, before) == 0)
            ::fdatasync(fd);
        ::close(fd);
        errno = err;
        throw;
    }
    ::close(fd);
    if (before == 0) // a new file's name must survive a crash too
        fsync_dir(path);
}

void rename_durably(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (::rename(from.c_str(), to.c_str()) != 0)
        fail("rename", from);
    fsync_dir(to);
}

} // namespace core::store

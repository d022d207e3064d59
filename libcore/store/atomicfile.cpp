#include "store/atomicfile.hpp"

#include "error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
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
    bool created = ::access(path.c_str(), F_OK) != 0;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        fail("open", path);
    try {
        write_all(fd, content, path);
        if (::fdatasync(fd) != 0)
            fail("fsync", path);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    if (created) // a new file's name must survive a crash too
        fsync_dir(path);
}

void rename_durably(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (::rename(from.c_str(), to.c_str()) != 0)
        fail("rename", from);
    fsync_dir(to);
}

} // namespace core::store

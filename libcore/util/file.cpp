#include "util/file.hpp"

#include "util/size.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace core::util {

std::string errno_text(int err) {
    std::string s = std::strerror(err);
    if (!s.empty())
        s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    return s;
}

namespace {

std::string hint_for(int err) {
    if (err == EACCES || err == EPERM)
        return "check the file's owner and mode (was modelctl once run with sudo?)";
    return {};
}

} // namespace

int open_regular(const std::filesystem::path& path, ErrorKind kind, uint64_t& size) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT || err == ENOTDIR)
            return -1;
        throw Error(kind, "cannot read " + path.string() + ": " + errno_text(err), hint_for(err));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        throw Error(kind, "cannot read " + path.string() + ": " + errno_text(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(kind, path.string() + " is not a regular file",
                    "remove or move it aside; modelctl reads only regular files there");
    }
    // Reads of a regular file never block; clear the flag all the same.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    size = static_cast<uint64_t>(st.st_size);
    return fd;
}

std::optional<std::string> read_file(const std::filesystem::path& path, uint64_t max_bytes,
                                     ErrorKind kind) {
    uint64_t size = 0;
    int fd = open_regular(path, kind, size);
    if (fd < 0)
        return std::nullopt;
    auto too_big = [&] {
        ::close(fd);
        return Error(kind,
                     path.string() + " is larger than the " + format_size(max_bytes) +
                         " modelctl reads",
                     "it is not a file modelctl wrote; move it aside");
    };
    if (size > max_bytes)
        throw too_big();
    std::string text;
    text.resize(static_cast<size_t>(size) + 1); // one more: a file that grew is noticed
    size_t have = 0;
    for (;;) {
        if (have == text.size()) {
            if (have > max_bytes)
                throw too_big();
            text.resize(std::min<uint64_t>(max_bytes + 1, text.size() * 2 + 4096));
        }
        ssize_t n = ::read(fd, text.data() + have, text.size() - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            ::close(fd);
            throw Error(kind, "cannot read " + path.string() + ": " + errno_text(err));
        }
        if (n == 0)
            break;
        have += static_cast<size_t>(n);
    }
    ::close(fd);
    if (have > max_bytes)
        throw too_big();
    text.resize(have);
    return text;
}

} // namespace core::util

#include "util/notify.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace core::util {

bool notify_service_manager(const std::string& socket_path, std::string_view state,
                            std::string& why) {
    if (socket_path.empty())
        return true;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path || socket_path.size() < 2 ||
        (socket_path[0] != '/' && socket_path[0] != '@')) {
        why = "NOTIFY_SOCKET is not a socket path";
        return false;
    }
    std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
    if (addr.sun_path[0] == '@')
        addr.sun_path[0] = '\0'; // abstract namespace
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        why = std::strerror(errno);
        return false;
    }
    ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                         reinterpret_cast<const sockaddr*>(&addr), len);
    int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(state.size())) {
        why = n < 0 ? std::strerror(err) : "a short send";
        return false;
    }
    return true;
}

} // namespace core::util

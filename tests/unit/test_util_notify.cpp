#include "util/notify.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using core::util::notify_service_manager;

namespace {

// A datagram socket bound at `path` (abstract when it starts with '@'), as
// systemd's NOTIFY_SOCKET is.
struct Listener {
    int fd = -1;
    explicit Listener(const std::string& path) {
        fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.data(), path.size());
        if (path[0] == '@')
            addr.sun_path[0] = '\0';
        auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    }
    ~Listener() { ::close(fd); }
    std::string receive() const {
        char buf[512];
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    }
};

} // namespace

TEST_CASE("notify_service_manager sends systemd's datagram to a path or an abstract socket") {
    auto path =
        (std::filesystem::temp_directory_path() / ("modelctl-notify-" + std::to_string(::getpid())))
            .string();
    std::filesystem::remove(path);
    {
        Listener l(path);
        std::string why;
        CHECK(notify_service_manager(path, "READY=1\nSTATUS=listening", why));
        CHECK(l.receive() == "READY=1\nSTATUS=listening");
    }
    std::filesystem::remove(path);
    std::string abstract = "@modelctl-notify-" + std::to_string(::getpid());
    Listener a(abstract);
    std::string why;
    CHECK(notify_service_manager(abstract, "STOPPING=1", why));
    CHECK(a.receive() == "STOPPING=1");
}

TEST_CASE("notify_service_manager: no socket is not an error, a bad one is") {
    std::string why;
    CHECK(notify_service_manager("", "READY=1", why));
    CHECK_FALSE(notify_service_manager("relative/path", "READY=1", why));
    CHECK(why.find("not a socket path") != std::string::npos);
    CHECK_FALSE(notify_service_manager("/nonexistent-dir/socket", "READY=1", why));
    CHECK_FALSE(why.empty());
}

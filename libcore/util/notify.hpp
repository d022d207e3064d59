#pragma once
// systemd's readiness protocol (sd_notify(3)), without libsystemd: a service
// started with Type=notify finds a datagram socket's path in $NOTIFY_SOCKET
// and sends it newline-separated assignments ("READY=1", "STOPPING=1",
// "RELOADING=1", "STATUS=..."). A path starting with '@' is in the abstract
// namespace. The caller reads the variable (the environment is captured
// once, by the app); an empty path means no service manager is listening.

#include <string>
#include <string_view>

namespace core::util {

// Sends `state` to the socket at `socket_path`. True when sent or when there
// is nowhere to send (empty path); false with `why` set when sending failed.
// Never blocks for long: the socket is non-blocking.
bool notify_service_manager(const std::string& socket_path, std::string_view state,
                            std::string& why);

} // namespace core::util

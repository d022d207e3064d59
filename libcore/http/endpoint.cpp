#include "http/endpoint.hpp"

namespace core::http {

std::string Endpoint::host_port() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Endpoint::url() const {
    return scheme + "://" + host_port() + base_path;
}

bool is_loopback(std::string_view host) {
    return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

} // namespace core::http

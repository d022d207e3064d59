#include "http/client.hpp"

#include "error.hpp"
#include "util/duration.hpp"

#include <dlfcn.h>
#include <filesystem>
#include <mutex>
#include <vector>

namespace core::http {

namespace fs = std::filesystem;

namespace {

// Where modelctl-http.so may be: beside an installed binary
// (PREFIX/bin/modelctl -> PREFIX/lib/modelctl/), then where the build put it.
std::vector<fs::path> module_paths() {
    std::vector<fs::path> out;
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec)
        out.push_back(exe.parent_path().parent_path() / "lib" / "modelctl" / "modelctl-http.so");
#ifdef MODELCTL_HTTP_MODULE
    out.emplace_back(MODELCTL_HTTP_MODULE);
#endif
    return out;
}

TransportFactory load_factory() {
    static std::once_flag once;
    static TransportFactory factory = nullptr;
    static std::string problem;
    std::call_once(once, [] {
        for (const auto& path : module_paths()) {
            std::error_code ec;
            if (!fs::exists(path, ec))
                continue;
            void* handle = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL);
            if (!handle) {
                problem = ::dlerror();
                continue;
            }
            factory = reinterpret_cast<TransportFactory>(::dlsym(handle, kTransportFactory));
            if (factory)
                return;
            problem = path.string() + " lacks " + kTransportFactory;
        }
        if (problem.empty())
            problem = "modelctl-http.so was not found beside the binary";
    });
    if (!factory)
        throw Error(ErrorKind::Failed, "cannot load modelctl's HTTP module: " + problem,
                    "reinstall modelctl: modelctl-http.so belongs in PREFIX/lib/modelctl/");
    return factory;
}

std::string describe(const TransportResult& r, const Timeouts& t) {
    auto secs = [](std::chrono::milliseconds ms) { return util::format_duration(ms); };
    switch (r.failure) {
    case Failure::Connection:
        return "connection refused or host unreachable";
    case Failure::ConnectTimeout:
        return "no connection within " + secs(t.connect) + " (connect timeout)";
    case Failure::Read:
        return "no complete response within " + secs(t.read) +
               " or the connection was closed (read timeout)";
    case Failure::Write:
        return "the connection was closed while sending the request";
    case Failure::Tls:
        return "TLS handshake failed (" + r.detail + ")";
    default:
        return r.detail;
    }
}

[[noreturn]] void throw_transport(const Endpoint& ep, const TransportResult& r, const Timeouts& t,
                                  const std::string& hint) {
    throw Error(ErrorKind::Unreachable,
                "cannot reach server at " + ep.url() + ": " + describe(r, t), hint);
}

} // namespace

Client::Client(Endpoint endpoint, Timeouts timeouts, const std::string& bearer_token,
               std::string unreachable_hint)
    : endpoint_(std::move(endpoint)), timeouts_(timeouts),
      unreachable_hint_(std::move(unreachable_hint)) {
    std::string base = endpoint_.scheme + "://" + endpoint_.host_port();
    transport_.reset(load_factory()(base.c_str(), timeouts_.connect.count(), timeouts_.read.count(),
                                    bearer_token.c_str()));
    if (!transport_)
        throw Error(ErrorKind::Usage, "unsupported server address " + endpoint_.url(),
                    "use http:// or https://");
}

Client::~Client() = default;

Response Client::get(const std::string& path) {
    auto r = transport_->get(endpoint_.base_path + path);
    if (r.failure != Failure::None)
        throw_transport(endpoint_, r, timeouts_, unreachable_hint_);
    return {r.status, std::move(r.body)};
}

Response Client::post_json(const std::string& path, const std::string& body) {
    auto r = transport_->post_json(endpoint_.base_path + path, body);
    if (r.failure != Failure::None)
        throw_transport(endpoint_, r, timeouts_, unreachable_hint_);
    return {r.status, std::move(r.body)};
}

Response Client::delete_json(const std::string& path, const std::string& body) {
    auto r = transport_->delete_json(endpoint_.base_path + path, body);
    if (r.failure != Failure::None)
        throw_transport(endpoint_, r, timeouts_, unreachable_hint_);
    return {r.status, std::move(r.body)};
}

Response Client::post_json_stream(const std::string& path, const std::string& body,
                                  const std::function<bool(std::string_view)>& on_chunk) {
    auto r = transport_->post_json_stream(endpoint_.base_path + path, body, on_chunk);
    if (r.failure == Failure::Canceled)
        return {r.status, {}};
    if (r.failure != Failure::None) {
        if (r.received) // the server went away mid-stream
            throw Error(ErrorKind::Protocol, "the response from " + endpoint_.url() +
                                                 " ended early: " + describe(r, timeouts_));
        throw_transport(endpoint_, r, timeouts_, unreachable_hint_);
    }
    return {r.status, std::move(r.body)};
}

} // namespace core::http

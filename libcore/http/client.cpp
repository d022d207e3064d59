#include "http/client.hpp"

#include "error.hpp"
#include "util/duration.hpp"
#include "util/interrupt.hpp"
#include "util/size.hpp"

#include <atomic>
#include <dlfcn.h>
#include <filesystem>
#include <mutex>
#include <poll.h>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace core::http {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Where modelctl-http.so may be: where the install layout puts it, relative to
// the binary (BINDIR -> LIBDIR/modelctl, worked out by CMake: Debian's /usr
// has LIBDIR lib/x86_64-linux-gnu), then where the build put it.
std::vector<fs::path> module_paths() {
    std::vector<fs::path> out;
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec)
        out.push_back((exe.parent_path() / MODELCTL_HTTP_MODULE_FROM_BIN).lexically_normal());
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
            problem =
                "modelctl-http.so was found neither where it is installed nor in the build tree";
    });
    if (!factory) {
        auto paths = module_paths();
        throw Error(
            ErrorKind::Failed, "cannot load modelctl's HTTP module: " + problem,
            "reinstall modelctl: the module belongs at " +
                (paths.empty() ? std::string("PREFIX/lib/modelctl") : paths.front().string()));
    }
    return factory;
}

std::string text(milliseconds ms) {
    return util::format_duration(ms);
}

// Why the watchdog cancelled a request.
enum class Stop { None, Deadline, Idle, Interrupted };

// Watches one request from its own thread and cancels it when its deadline
// passes, the stream goes idle too long, or the user interrupts. Looks every
// few milliseconds; ends as soon as the request does.
class Watchdog {
public:
    Watchdog(Transport& transport, std::optional<SteadyClock::time_point> deadline,
             std::optional<milliseconds> idle)
        : transport_(transport), deadline_(deadline), idle_(idle),
          done_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
        touch();
        thread_ = std::thread([this] { watch(); });
    }
    ~Watchdog() { finish(); }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

    // Something arrived: the idle timer starts again.
    void touch() { last_ = SteadyClock::now().time_since_epoch().count(); }
    // Ends the watch; what stopped the request, if the watchdog did.
    Stop finish() {
        if (thread_.joinable()) {
            uint64_t one = 1;
            if (done_fd_ >= 0)
                (void)!::write(done_fd_, &one, sizeof one);
            thread_.join();
        }
        if (done_fd_ >= 0) {
            ::close(done_fd_);
            done_fd_ = -1;
        }
        return stop_;
    }

private:
    void watch() {
        constexpr milliseconds kLook{10};
        for (;;) {
            pollfd p{done_fd_, POLLIN, 0};
            int rc = ::poll(&p, done_fd_ >= 0 ? 1 : 0, static_cast<int>(kLook.count()));
            if (rc > 0)
                return;
            auto now = SteadyClock::now();
            Stop why = Stop::None;
            if (util::interrupted())
                why = Stop::Interrupted;
            else if (deadline_ && now >= *deadline_)
                why = Stop::Deadline;
            else if (idle_ &&
                     now - SteadyClock::time_point(SteadyClock::duration(last_.load())) >= *idle_)
                why = Stop::Idle;
            if (why != Stop::None) {
                stop_ = why;
                transport_.cancel();
                return;
            }
        }
    }

    Transport& transport_;
    std::optional<SteadyClock::time_point> deadline_;
    std::optional<milliseconds> idle_;
    std::atomic<SteadyClock::rep> last_{0};
    int done_fd_;
    Stop stop_ = Stop::None;
    std::thread thread_;
};

} // namespace

void LineSplitter::too_long() const {
    throw Error(ErrorKind::Protocol, "a line of the stream from " + source_ + " is longer than " +
                                         util::format_size(max_line_) + "; the answer was dropped");
}

Client::Client(Endpoint endpoint, Timeouts timeouts, const std::string& bearer_token,
               std::string unreachable_hint)
    : endpoint_(std::move(endpoint)), timeouts_(timeouts),
      unreachable_hint_(std::move(unreachable_hint)) {
    std::string base = endpoint_.scheme + "://" + endpoint_.host_port();
    if (base.size() > kMaxAddress)
        throw Error(ErrorKind::Usage,
                    "the server address is too long (" + std::to_string(base.size()) +
                        " characters; modelctl takes at most " + std::to_string(kMaxAddress) + ")",
                    "check --host, OLLAMA_HOST and the endpoints' urls");
    transport_.reset(load_factory()(base.c_str(), timeouts_.connect.count(), bearer_token.c_str()));
    if (!transport_)
        throw Error(ErrorKind::Usage, "unsupported server address " + endpoint_.url(),
                    "use http:// or https://");
}

Client::~Client() = default;

Response Client::get(const std::string& path) {
    return exchange("GET", path, {}, nullptr);
}

Response Client::post_json(const std::string& path, const std::string& body) {
    return exchange("POST", path, body, nullptr);
}

Response Client::delete_json(const std::string& path, const std::string& body) {
    return exchange("DELETE", path, body, nullptr);
}

Response Client::post_json_stream(const std::string& path, const std::string& body,
                                  const std::function<bool(std::string_view)>& on_chunk) {
    return exchange("POST", path, body, &on_chunk);
}

Response Client::exchange(const char* method, const std::string& path, const std::string& body,
                          const std::function<bool(std::string_view)>* on_chunk) {
    util::throw_if_interrupted(("before asking " + endpoint_.url()).c_str());
    const bool stream = on_chunk != nullptr;
    auto start = SteadyClock::now();
    std::optional<SteadyClock::time_point> deadline;
    std::optional<milliseconds> idle;
    if (stream) {
        idle = timeouts_.request;
        if (timeouts_.stream_total)
            deadline = start + *timeouts_.stream_total;
    } else {
        deadline = start + timeouts_.request;
    }
    // The library's own read timeout is only a backstop: the watchdog fires
    // first, and so tells a deadline from an answer that broke.
    auto backstop = (stream ? *idle : timeouts_.request) + milliseconds(2000);

    Response out;
    bool too_large = false;
    bool received = false;
    bool stopped_by_caller = false;
    std::optional<Error> caller_error;
    Watchdog watchdog(*transport_, deadline, idle);
    BodyReceiver receive = [&](int status, std::string_view piece) {
        watchdog.touch();
        if (piece.empty())
            return true;
        received = true;
        bool ok_status = status >= 200 && status < 300;
        if (stream && ok_status) {
            try {
                if (!(*on_chunk)(piece)) {
                    stopped_by_caller = true;
                    return false;
                }
            } catch (const Error& e) {
                caller_error = e; // rethrown once the transfer is over
                return false;
            }
            return true;
        }
        // A whole body (or an error status's, on a stream) is collected, capped.
        uint64_t cap = stream ? kMaxLine : kMaxBody;
        if (out.body.size() + piece.size() > cap) {
            too_large = true;
            return false;
        }
        out.body.append(piece);
        return true;
    };
    auto r = transport_->send(method, endpoint_.base_path + path, body, backstop, receive);
    Stop why = watchdog.finish();
    out.status = r.status;
    if (caller_error)
        throw *caller_error;
    const std::string url = endpoint_.url();
    auto elapsed = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
    switch (why) {
    case Stop::Interrupted:
        throw Error(ErrorKind::Interrupted, "interrupted while waiting for " + url);
    case Stop::Deadline:
        if (stream)
            throw Error(ErrorKind::Unreachable,
                        "the answer from " + url + " did not finish within " +
                            text(*timeouts_.stream_total),
                        "a slow model or server; raise --timeout");
        throw Error(ErrorKind::Unreachable,
                    "no complete answer from " + url + " within " + text(timeouts_.request) +
                        (received ? " (it was still sending)" : ""),
                    "raise --timeout for a slow server; " + unreachable_hint_);
    case Stop::Idle:
        throw Error(ErrorKind::Unreachable,
                    (received ? "the answer from " + url + " stalled: nothing for "
                              : "no answer from " + url + " within ") +
                        text(*idle),
                    "raise --timeout for a slow model; " + unreachable_hint_);
    case Stop::None:
        break;
    }
    if (too_large)
        throw Error(ErrorKind::Protocol,
                    "the answer from " + url + " is larger than the " +
                        util::format_size(stream ? kMaxLine : kMaxBody) +
                        " modelctl reads; it was dropped",
                    "is this the server you meant? Check --host");
    if (stopped_by_caller)
        return out;
    switch (r.failure) {
    case Failure::None:
        break;
    case Failure::Connection:
        throw Error(ErrorKind::Unreachable,
                    "cannot reach server at " + url + ": connection refused or host unreachable",
                    unreachable_hint_);
    case Failure::ConnectTimeout:
        throw Error(ErrorKind::Unreachable,
                    "cannot reach server at " + url + ": no connection within " +
                        text(timeouts_.connect) + " (connect timeout)",
                    unreachable_hint_);
    case Failure::Tls:
        throw Error(ErrorKind::Unreachable,
                    "cannot reach server at " + url + ": TLS handshake failed (" + r.detail + ")",
                    unreachable_hint_);
    case Failure::Write:
        throw Error(ErrorKind::Unreachable,
                    "cannot reach server at " + url + ": the connection was closed while sending");
    default:
        // Read, Canceled (by nobody here) or Other, before the deadline: the
        // server closed the connection, cut its answer short, or sent
        // something that is not HTTP.
        if (elapsed + milliseconds(500) >= backstop)
            throw Error(ErrorKind::Unreachable,
                        "no answer from " + url + " within " + text(backstop) + " (read timeout)",
                        unreachable_hint_);
        throw Error(ErrorKind::Protocol,
                    "malformed answer from " + url + ": " +
                        (r.status == 0 ? "no valid HTTP status line before the connection closed"
                         : received    ? "the body was cut short or broke its framing"
                                       : "the connection closed before the body"),
                    "is this the server you meant? Check --host");
    }
    if (r.status >= 300 && r.status < 400)
        throw Error(ErrorKind::Protocol,
                    url + " answered with a redirect (HTTP " + std::to_string(r.status) + ")" +
                        (r.location.empty() ? "" : " to " + r.location.substr(0, 200)) +
                        "; modelctl does not follow redirects",
                    "set the address it names with --host (or the endpoint's url)");
    return out;
}

} // namespace core::http

// modelsim: a local model server that speaks Ollama's HTTP API over simulated
// memory, load times, keep_alive expiry and eviction. Used by modelctl's tests,
// demo and benchmarks; see `modelsim --help`.

#include "catalog.hpp"
#include "server.hpp"
#include "simulator.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

// Binds a port, prints it and closes the socket, then idles: every connection
// to the printed port is refused, as when no server runs there.
int serve_refusing(const std::string& host, int port, const std::string& port_file) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::cerr << "modelsim: cannot bind " << host << ":" << port << "\n";
        return 1;
    }
    int bound = ntohs(addr.sin_port);
    ::close(fd);
    std::cout << "modelsim: refusing connections on http://127.0.0.1:" << bound << std::endl;
    if (!port_file.empty())
        std::ofstream(port_file) << bound << "\n";
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    return 0;
}

template <class T> CLI::Validator checked(T fn, const char* what) {
    return CLI::Validator(
        [fn, what](std::string& s) -> std::string { return fn(s) ? "" : s + ": " + what; }, "");
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"modelsim: a simulated Ollama (or LM Studio) server for testing modelctl"};
    std::string api = "ollama";
    modelsim::LmStudioOptions lms;
    std::string host = "127.0.0.1";
    int port = 11434;
    std::string port_file, catalog_file;
    size_t threads = 64;
    std::string vram = "24GB", ram = "64GB", keep_alive = "5m", disk = "0", repull = "new",
                pull_bandwidth = "1GB";
    std::vector<std::string> faults_spec;
    modelsim::SimConfig config;

    app.add_option("--api", api,
                   "The server to simulate: ollama, or lmstudio (LM Studio's REST API)")
        ->capture_default_str()
        ->check(CLI::IsMember({"ollama", "lmstudio"}));
    app.add_option("--api-token", lms.token,
                   "lmstudio: require this bearer token (LM Studio's API authentication)");
    app.add_flag("--lmstudio-v0", lms.v0_only,
                 "lmstudio: be a server before 0.4, with only the v0 REST API");
    app.add_option("--host", host, "Address to listen on")->capture_default_str();
    auto* port_opt =
        app.add_option("--port", port,
                       "Port to listen on; 0 picks a free one (default: 11434, lmstudio 1234)")
            ->capture_default_str()
            ->check(CLI::Range(0, 65535));
    app.add_option("--port-file", port_file, "Write the port to this file once listening");
    app.add_option("--threads", threads, "Connections served at once (default 64)")
        ->check(CLI::Range(1, 4096));
    app.add_option("--catalog", catalog_file, "Installed models, as JSON (default: built-in dozen)")
        ->check(CLI::ExistingFile);
    app.add_option("--vram", vram, "Simulated GPU memory, e.g. 24GB; 0 for none")
        ->capture_default_str()
        ->check(checked(core::util::parse_size, "not a size"));
    app.add_option("--ram", ram, "System memory models may use")
        ->capture_default_str()
        ->check(checked(core::util::parse_size, "not a size"));
    app.add_option("--disk", disk, "Disk space for model files; pulls past it fail; 0 for no limit")
        ->capture_default_str()
        ->check(checked(core::util::parse_size, "not a size"));
    app.add_option("--repull", repull,
                   "What re-pulling a model at its newest version finds: new (the registry has "
                   "published a new version) or same")
        ->capture_default_str()
        ->check(CLI::IsMember({"new", "same"}));
    app.add_option("--pull-bandwidth", pull_bandwidth, "What a pull downloads a second, e.g. 200MB")
        ->capture_default_str()
        ->check(
            checked([](const std::string& v) { return core::util::parse_size(v).value_or(0) > 0; },
                    "not a size above 0"));
    app.add_option("--max-loaded", config.max_loaded, "OLLAMA_MAX_LOADED_MODELS")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    auto* keep_alive_opt =
        app.add_option("--keep-alive", keep_alive,
                       "Default keep_alive (OLLAMA_KEEP_ALIVE; lmstudio: JIT TTL, 60m)")
            ->capture_default_str()
            ->check(checked(core::util::parse_keep_alive, "not a duration"));
    app.add_option("--num-ctx", config.default_num_ctx, "Default context length")
        ->capture_default_str()
        ->check(CLI::Range(1, 1 << 20));
    app.add_option("--startup", config.startup_seconds, "Runner start-up seconds per load")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--load-bandwidth", config.load_bandwidth, "Bytes per second a load reads")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--unload", config.unload_seconds, "Seconds a runner takes to stop")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--speed", config.speed, "Divide every simulated duration by this")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--seed", config.seed, "Seed for generated answers")->capture_default_str();
    app.add_option("--min-tokens", config.min_tokens,
                   "Shortest answer a model gives on its own, in tokens (the longest: 160 or this)")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--utc-offset", config.utc_offset_minutes,
                   "Minutes east of UTC for timestamps, as Go writes local time")
        ->capture_default_str()
        ->check(CLI::Range(-1439, 1439));
    app.add_option(
        "--fault", faults_spec,
        "Inject a fault: refuse, delay=MS, busy[=N], oom, malformed, truncate, "
        "midstream-error, pull-fail, fail=MODEL, queue-full[=N] (503 to requests that need a "
        "runner) (repeatable)");
    CLI11_PARSE(app, argc, argv);

    modelsim::Faults faults;
    bool refuse = false;
    for (const auto& f : faults_spec) {
        auto eq = f.find('=');
        std::string name = f.substr(0, eq);
        std::string arg = eq == std::string::npos ? "" : f.substr(eq + 1);
        try {
            if (name == "refuse")
                refuse = true;
            else if (name == "delay")
                faults.delay_ms = std::stoi(arg);
            else if (name == "busy")
                faults.busy = arg.empty() ? -1 : std::stoi(arg);
            else if (name == "oom")
                faults.oom = true;
            else if (name == "malformed")
                faults.malformed = true;
            else if (name == "truncate")
                faults.truncate = true;
            else if (name == "midstream-error")
                faults.midstream_error = true;
            else if (name == "queue-full")
                faults.queue_full = arg.empty() ? -1 : std::stoi(arg);
            else if (name == "pull-fail")
                faults.pull_fail = true;
            else if (name == "fail" && !arg.empty())
                faults.fail.insert(modelsim::normalize(arg));
            else
                throw std::invalid_argument(name);
        } catch (const std::exception&) {
            std::cerr << "modelsim: error: unknown fault '" << f << "'\n";
            return 2;
        }
    }

    config.lmstudio = api == "lmstudio";
    if (config.lmstudio) {
        if (port_opt->count() == 0)
            port = 1234;
        if (keep_alive_opt->count() == 0)
            keep_alive = "60m"; // LM Studio's default idle TTL for JIT-loaded models
    }
    config.vram = *core::util::parse_size(vram);
    config.ram = *core::util::parse_size(ram);
    config.pull_bandwidth = static_cast<double>(*core::util::parse_size(pull_bandwidth));
    auto ka = *core::util::parse_keep_alive(keep_alive);
    config.default_keep_alive =
        ka.forever ? modelsim::Ns::max() : std::chrono::duration_cast<modelsim::Ns>(ka.value);

    // Signals are taken by a thread with sigwait, so block them everywhere first.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    if (refuse)
        return serve_refusing(host, port, port_file);

    std::vector<modelsim::CatalogModel> catalog;
    try {
        catalog = catalog_file.empty() ? modelsim::default_catalog()
                                       : modelsim::load_catalog(catalog_file);
    } catch (const std::exception& e) {
        std::cerr << "modelsim: error: " << e.what() << "\n";
        return 2;
    }
    std::vector<modelsim::CatalogModel> registry = modelsim::default_catalog(); // what pulls fetch
    if (config.lmstudio) {
        for (auto& m : catalog)
            m.name = modelsim::lmstudio_key(m.name);
        for (auto& m : registry)
            m.name = modelsim::lmstudio_key(m.name);
    }
    modelsim::Library library(catalog, registry,
                              {*core::util::parse_size(disk), repull == "new", config.lmstudio});
    modelsim::Simulator sim(library, config);
    httplib::Server server;
    // Ollama (Go's net/http) takes every connection; a pool this size holds
    // the concurrent streams the benchmarks open.
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server.set_keep_alive_max_count(100000);
    server.set_tcp_nodelay(true); // as Go's net/http, which Ollama serves with, does
    int listener = -1;
    server.set_socket_options([&listener](int fd) {
        httplib::default_socket_options(fd);
        listener = fd;
    });
    if (config.lmstudio)
        modelsim::install_lmstudio_routes(server, sim, faults, lms);
    else
        modelsim::install_routes(server, sim, faults, host);

    int bound =
        port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
    if (bound < 0) {
        std::cerr << "modelsim: error: cannot listen on " << host << ":" << port << "\n";
        return 1;
    }
    // cpp-httplib 0.11 listens with a backlog of 5: 64 clients connecting at
    // once lose SYNs and wait out the kernel's 1 s retransmit. Go's
    // net.Listen, which Ollama serves with, takes the kernel's somaxconn; a
    // second listen() on a listening socket only changes its backlog.
    if (listener >= 0)
        ::listen(listener, SOMAXCONN);
    std::cout << "modelsim: listening on http://" << host << ":" << bound << std::endl;
    if (!port_file.empty()) {
        std::string tmp = port_file + ".tmp";
        std::ofstream(tmp) << bound << "\n";
        std::rename(tmp.c_str(), port_file.c_str());
    }
    std::thread waiter([&] {
        int sig = 0;
        sigwait(&set, &sig);
        server.stop();
    });
    server.listen_after_bind();
    waiter.join();
    return 0;
}

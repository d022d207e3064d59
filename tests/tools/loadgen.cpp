// Test tool: a load generator for serve's benchmarks. C clients, each on
// its own kept connection, send the same POST until N requests have been
// answered in all, and the tool prints one JSON object: latency percentiles,
// time to the first byte of the answer, throughput and errors. Built on
// libcore's own HTTP pieces (http/upstream.hpp), so it measures the servers,
// not a client library. Each client first has one request answered, not
// measured, so what is measured is requests on kept connections.
//
// Without RATE each client sends its next request as soon as the last is
// answered (a closed loop: the clients push the machine to saturation, and
// latency is then mostly queueing for the CPU). With RATE (requests per
// second, all clients together) request k is due at start + k / RATE, client
// c sending requests c, c + C, c + 2C ... (an open loop); latency runs from
// when a request was due, so a client that falls behind counts the wait
// (no coordinated omission).
//
// usage: loadgen HOST PORT PATH BODY CONCURRENCY REQUESTS [RATE]

#include "http/upstream.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;
using namespace core::http;

namespace {

double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 7 && argc != 8) {
        std::fprintf(stderr, "usage: loadgen HOST PORT PATH BODY CONCURRENCY REQUESTS [RATE]\n");
        return 2;
    }
    std::string host = argv[1];
    int port = std::atoi(argv[2]);
    std::string path = argv[3], body = argv[4];
    int clients = std::atoi(argv[5]);
    long total = std::atol(argv[6]);
    double rate = argc == 8 ? std::atof(argv[7]) : 0;
    if (clients < 1 || total < 1 || rate < 0) {
        std::fprintf(stderr, "loadgen: CONCURRENCY and REQUESTS must be positive, RATE >= 0\n");
        return 2;
    }
    RequestHead h;
    h.method = "POST";
    h.target = path;
    h.fields = {{"Host", host + ":" + std::to_string(port)},
                {"Content-Type", "application/json"},
                {"Content-Length", std::to_string(body.size())}};
    const std::string request = serialize(h) + body;

    // One request on `s` (connected first if need be); false on any failure.
    auto exchange = [&](Socket& s, Clock::time_point& first) {
        std::string why;
        if (!s.valid())
            s = connect_tcp(host, port, Millis(5000), why);
        bool ok = s.valid() && write_all(s.fd(), request, Millis(60000)) == IoResult::Ok;
        ResponseReader r(s.fd(), "POST", Millis(600000));
        bool nothing = false, seen = false;
        std::optional<ResponseHead> head;
        if (ok)
            head = r.read_head({}, nothing);
        ok = head && head->status == 200 &&
             r.read_body(
                 [&](std::string_view) {
                     if (!seen)
                         first = Clock::now();
                     seen = true;
                     return true;
                 },
                 {}) == IoResult::Ok;
        if (!seen)
            first = Clock::now();
        if (!ok || !r.reusable())
            s.close();
        return ok;
    };

    std::atomic<long> next{0};
    std::atomic<long> errors{0};
    std::mutex mutex;
    std::vector<double> latencies, firsts;
    // Every client connects and has one request answered before the clock
    // starts: what is measured is requests on kept connections, not the
    // servers' accept and thread start-up.
    Clock::time_point t0;
    std::barrier ready(clients, [&]() noexcept { t0 = Clock::now(); });
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
            std::vector<double> mine, mine_first;
            Socket s;
            Clock::time_point first;
            if (!exchange(s, first))
                ++errors;
            ready.arrive_and_wait();
            for (long k = c;; k += clients) {
                if (rate == 0 ? next++ >= total : k >= total)
                    break;
                auto start = Clock::now();
                if (rate > 0) {
                    auto due =
                        t0 + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(k) / rate));
                    std::this_thread::sleep_until(due);
                    start = due;
                }
                if (!exchange(s, first)) {
                    ++errors;
                    continue;
                }
                auto end = Clock::now();
                mine.push_back(std::chrono::duration<double, std::milli>(end - start).count());
                mine_first.push_back(
                    std::chrono::duration<double, std::milli>(first - start).count());
            }
            std::lock_guard lock(mutex);
            latencies.insert(latencies.end(), mine.begin(), mine.end());
            firsts.insert(firsts.end(), mine_first.begin(), mine_first.end());
        });
    for (auto& t : threads)
        t.join();
    double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("{\"requests\": %zu, \"errors\": %ld, \"seconds\": %.3f, \"per_second\": %.1f, "
                "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"first_byte_p50_ms\": %.3f, "
                "\"first_byte_p99_ms\": %.3f}\n",
                latencies.size(), errors.load(), seconds,
                static_cast<double>(latencies.size()) / seconds, percentile(latencies, 0.5),
                percentile(latencies, 0.99), percentile(firsts, 0.5), percentile(firsts, 0.99));
    return errors.load() ? 1 : 0;
}

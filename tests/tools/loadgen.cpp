// Test tool: a load generator for serve's benchmarks. C clients, each on
// its own kept connection, send the same POST one after another until N
// requests have been answered in all, and the tool prints one JSON object:
// latency percentiles (request sent -> answer read whole), time to the first
// byte of the answer, throughput and errors. Built on libcore's own HTTP
// pieces (http/upstream.hpp), so it measures the servers, not a client library.
//
// usage: loadgen HOST PORT PATH BODY CONCURRENCY REQUESTS

#include "http/upstream.hpp"

#include <algorithm>
#include <atomic>
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
    if (argc != 7) {
        std::fprintf(stderr, "usage: loadgen HOST PORT PATH BODY CONCURRENCY REQUESTS\n");
        return 2;
    }
    std::string host = argv[1];
    int port = std::atoi(argv[2]);
    std::string path = argv[3], body = argv[4];
    int clients = std::atoi(argv[5]);
    long total = std::atol(argv[6]);
    RequestHead h;
    h.method = "POST";
    h.target = path;
    h.fields = {{"Host", host + ":" + std::to_string(port)},
                {"Content-Type", "application/json"},
                {"Content-Length", std::to_string(body.size())}};
    const std::string request = serialize(h) + body;

    std::atomic<long> next{0};
    std::atomic<long> errors{0};
    std::mutex mutex;
    std::vector<double> latencies, firsts;
    auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&] {
            std::vector<double> mine, mine_first;
            Socket s;
            while (next++ < total) {
                std::string why;
                if (!s.valid())
                    s = connect_tcp(host, port, Millis(5000), why);
                auto start = Clock::now();
                std::optional<Clock::time_point> first;
                bool ok = s.valid() && write_all(s.fd(), request, Millis(60000)) == IoResult::Ok;
                ResponseReader r(s.fd(), "POST", Millis(600000));
                bool nothing = false;
                std::optional<ResponseHead> head;
                if (ok)
                    head = r.read_head({}, nothing);
                ok = head && head->status == 200 &&
                     r.read_body(
                         [&](std::string_view) {
                             if (!first)
                                 first = Clock::now();
                             return true;
                         },
                         {}) == IoResult::Ok;
                auto end = Clock::now();
                if (!ok) {
                    ++errors;
                    s.close();
                    continue;
                }
                mine.push_back(std::chrono::duration<double, std::milli>(end - start).count());
                mine_first.push_back(
                    std::chrono::duration<double, std::milli>(first.value_or(end) - start).count());
                if (!r.reusable())
                    s.close();
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

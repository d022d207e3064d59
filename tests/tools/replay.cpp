// Test tool: replays a request trace (CSV "time,model", time in seconds)
// against an Ollama API, time-compressed: request i is sent at
// time_i * STRETCH / SPEED seconds after the start, whatever the answers
// before it are doing (each on its own connection and thread), as a
// one-token non-streamed /api/generate. EVERY keeps every N-th request and
// STRETCH multiplies the times, as `modelctl simulate --every --stretch` do,
// so both replay the same variant. Prints one JSON object: requests, errors
// (by HTTP status), seconds, and how late the sends ran behind the schedule.
//
// usage: replay HOST PORT TRACE SPEED [EVERY [STRETCH]]

#include "http/upstream.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;
using namespace core::http;

int main(int argc, char** argv) {
    if (argc < 5 || argc > 7) {
        std::fprintf(stderr, "usage: replay HOST PORT TRACE SPEED [EVERY [STRETCH]]\n");
        return 2;
    }
    std::string host = argv[1];
    int port = std::atoi(argv[2]);
    double speed = std::atof(argv[4]);
    long every = argc > 5 ? std::atol(argv[5]) : 1;
    double stretch = argc > 6 ? std::atof(argv[6]) : 1;
    std::ifstream in(argv[3]);
    if (!in || speed <= 0 || every < 1 || stretch <= 0) {
        std::fprintf(stderr, "replay: cannot read %s, or a bad number\n", argv[3]);
        return 2;
    }
    struct Request {
        double at;
        std::string model;
    };
    std::vector<Request> trace;
    std::string line;
    long n = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') // the shared traces end lines in CRLF
            line.pop_back();
        auto comma = line.find(',');
        if (comma == std::string::npos || line.rfind("time,", 0) == 0)
            continue;
        if (n++ % every != 0)
            continue;
        trace.push_back({std::atof(line.c_str()) * stretch / speed, line.substr(comma + 1)});
    }

    std::mutex mutex;
    std::map<int, long> errors; // HTTP status (0: no answer) -> count
    std::atomic<long> answered{0};
    double worst_late = 0;
    auto t0 = Clock::now();
    std::vector<std::thread> threads;
    threads.reserve(trace.size());
    for (const auto& r : trace) {
        auto due =
            t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(r.at));
        std::this_thread::sleep_until(due);
        worst_late =
            std::max(worst_late, std::chrono::duration<double>(Clock::now() - due).count());
        threads.emplace_back([&, model = r.model] {
            std::string body =
                "{\"model\":\"" + model +
                "\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":1}}";
            RequestHead h;
            h.method = "POST";
            h.target = "/api/generate";
            h.fields = {{"Host", host + ":" + std::to_string(port)},
                        {"Content-Type", "application/json"},
                        {"Content-Length", std::to_string(body.size())},
                        {"Connection", "close"}};
            std::string why;
            Socket s = connect_tcp(host, port, Millis(10000), why);
            int status = 0;
            if (s.valid() &&
                write_all(s.fd(), serialize(h) + body, Millis(60000)) == IoResult::Ok) {
                ResponseReader reader(s.fd(), "POST", Millis(600000));
                bool nothing = false;
                if (auto head = reader.read_head({}, nothing)) {
                    status = head->status;
                    if (reader.read_body([](std::string_view) { return true; }, {}) != IoResult::Ok)
                        status = 0;
                }
            }
            if (status == 200) {
                ++answered;
                return;
            }
            std::lock_guard lock(mutex);
            ++errors[status];
        });
    }
    for (auto& t : threads)
        t.join();
    double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::string errs = "{";
    long total_errors = 0;
    for (const auto& [status, count] : errors) {
        errs += (errs.size() > 1 ? ", \"" : "\"") + std::to_string(status) +
                "\": " + std::to_string(count);
        total_errors += count;
    }
    errs += "}";
    std::printf("{\"requests\": %zu, \"answered\": %ld, \"errors\": %ld, \"errors_by_status\": %s, "
                "\"seconds\": %.3f, \"worst_send_late_s\": %.3f}\n",
                trace.size(), answered.load(), total_errors, errs.c_str(), seconds, worst_late);
    return total_errors ? 1 : 0;
}

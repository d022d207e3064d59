// Test tool: a scripted HTTP server that misbehaves as a broken or malicious
// model server would, for the e2e tests of issue 15 (tests/e2e/test_hostile.sh).
// Every request on every connection gets the same scripted answer.
//
// usage: hostile_server --port-file F [--port N] [--log FILE] MODE [--body FILE]
//                       [--status N] [--header "Name: value"]... [--every MS]
// --log appends each request's line and headers to FILE (what a client sent).
// MODES
//   normal      the status, headers, Content-Length and body
//   drip        the status line, then every byte of the headers and body one
//               at a time, --every ms apart (a server that never finishes)
//   endless     headers without a length, then body bytes as fast as the
//               client takes them, for at most 60 s (a body that never ends)
//   longline    a chunked NDJSON answer whose one line never ends (60 s at most)
//   truncate    a Content-Length twice the body's, the body, then close
//   badchunk    chunked, with a chunk size that is not hex
//   garbage     a status line that is not HTTP, then close
//   close       accept, read the request, close without a byte
// Uses only POSIX sockets: nothing here is code under test.

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <netinet/in.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

struct Script {
    std::string mode = "normal";
    std::string body = "{}";
    int status = 200;
    std::vector<std::string> headers;
    int every_ms = 1000;
    std::string log;
};

std::mutex g_log_mutex;

bool send_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

// Reads one request (headers and a Content-Length body), logging its head
// to `log` when given; false at EOF.
bool read_request(int fd, const std::string& log) {
    std::string got;
    char buf[4096];
    size_t end = std::string::npos;
    while ((end = got.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return false;
        got.append(buf, static_cast<size_t>(n));
    }
    if (!log.empty()) {
        std::lock_guard<std::mutex> lock(g_log_mutex);
        std::ofstream(log, std::ios::app) << got.substr(0, end) << "\n\n";
    }
    size_t length = 0;
    std::string lower = got.substr(0, end);
    for (auto& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto p = lower.find("content-length:"); p != std::string::npos)
        length = std::stoul(lower.substr(p + 15));
    size_t have = got.size() - end - 4;
    while (have < length) {
        ssize_t n = ::recv(fd, buf, std::min(sizeof buf, length - have), 0);
        if (n <= 0)
            return false;
        have += static_cast<size_t>(n);
    }
    return true;
}

std::string head(const Script& s, const std::string& framing) {
    std::string h = "HTTP/1.1 " + std::to_string(s.status) + " Scripted\r\n" +
                    "Content-Type: application/json\r\n" + framing;
    for (const auto& x : s.headers)
        h += x + "\r\n";
    return h + "\r\n";
}

void serve(int fd, const Script& s) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (read_request(fd, s.log)) {
        const std::string length = "Content-Length: " + std::to_string(s.body.size()) + "\r\n";
        if (s.mode == "normal") {
            if (!send_all(fd, head(s, length) + s.body))
                break;
            continue;
        }
        if (s.mode == "drip") {
            std::string all = head(s, length) + s.body;
            for (size_t i = 0; i < all.size() && std::chrono::steady_clock::now() < until; ++i) {
                if (!send_all(fd, all.substr(i, 1)))
                    break;
                std::this_thread::sleep_for(std::chrono::milliseconds(s.every_ms));
            }
        } else if (s.mode == "endless") {
            std::string piece(65536, ' ');
            if (send_all(fd, head(s, "Connection: close\r\n") + "["))
                while (std::chrono::steady_clock::now() < until && send_all(fd, piece)) {
                }
        } else if (s.mode == "longline") {
            std::string chunk(65536, 'x');
            std::ostringstream hex;
            hex << std::hex << chunk.size();
            if (send_all(fd, head(s, "Transfer-Encoding: chunked\r\n")))
                while (std::chrono::steady_clock::now() < until &&
                       send_all(fd, hex.str() + "\r\n" + chunk + "\r\n")) {
                }
        } else if (s.mode == "truncate") {
            send_all(fd,
                     head(s, "Content-Length: " + std::to_string(2 * s.body.size() + 10) + "\r\n") +
                         s.body);
        } else if (s.mode == "badchunk") {
            send_all(fd, head(s, "Transfer-Encoding: chunked\r\n") + "zz\r\n" + s.body + "\r\n");
        } else if (s.mode == "garbage") {
            send_all(fd, "NOT-HTTP/9 what\r\n\r\n" + s.body);
        }
        break; // "close" and every broken answer end the connection
    }
    ::close(fd);
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    Script s;
    std::string port_file;
    int port = 0;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "hostile_server: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--port-file")
            port_file = next();
        else if (a == "--body") {
            std::ifstream in(next(), std::ios::binary);
            s.body.assign(std::istreambuf_iterator<char>(in), {});
        } else if (a == "--status")
            s.status = std::stoi(next());
        else if (a == "--header")
            s.headers.push_back(next());
        else if (a == "--log")
            s.log = next();
        else if (a == "--port")
            port = std::stoi(next());
        else if (a == "--every")
            s.every_ms = std::stoi(next());
        else
            s.mode = a;
    }
    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    int one = 1;
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = sizeof addr;
    if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(lfd, 64) != 0 ||
        ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::perror("hostile_server");
        return 1;
    }
    {
        std::ofstream out(port_file + ".tmp");
        out << ntohs(addr.sin_port) << "\n";
    }
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
    for (;;) {
        int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0)
            std::thread(serve, fd, s).detach();
    }
}

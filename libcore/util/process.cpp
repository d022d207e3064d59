#include "util/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace core::util {

namespace fs = std::filesystem;

namespace {

fs::path find_program(const std::string& name, const std::string& path_env) {
    if (name.find('/') != std::string::npos)
        return ::access(name.c_str(), X_OK) == 0 ? fs::path(name) : fs::path();
    std::istringstream dirs(path_env);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        fs::path p = fs::path(dir.empty() ? "." : dir) / name;
        if (::access(p.c_str(), X_OK) == 0)
            return p;
    }
    return {};
}

} // namespace

std::optional<std::string> run_program(const std::vector<std::string>& argv, const RunOptions& o,
                                       std::string& why) {
    if (argv.empty() || argv[0].empty()) {
        why = "no program to run";
        return std::nullopt;
    }
    fs::path exe = find_program(argv[0], o.path_env);
    if (exe.empty()) {
        why = argv[0] + (argv[0].find('/') != std::string::npos ? " is not an executable file"
                                                                : " not found on PATH");
        return std::nullopt;
    }
    int out[2], in[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        why = std::string("pipe: ") + std::strerror(errno);
        return std::nullopt;
    }
    if (::pipe2(in, O_CLOEXEC) != 0) {
        why = std::string("pipe: ") + std::strerror(errno);
        ::close(out[0]);
        ::close(out[1]);
        return std::nullopt;
    }
    // Everything the child needs is built before fork.
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    if (o.env) {
        for (const auto& e : *o.env)
            envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        why = std::string("fork: ") + std::strerror(errno);
        for (int fd : {out[0], out[1], in[0], in[1]})
            ::close(fd);
        return std::nullopt;
    }
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(in[0], STDIN_FILENO);
        int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0)
            ::dup2(null, STDERR_FILENO);
        ::signal(SIGPIPE, SIG_DFL); // as any program expects it
        if (o.env)
            ::execve(exe.c_str(), args.data(), envp.data());
        else
            ::execv(exe.c_str(), args.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(in[0]);
    // The input is a line or two: the pipe holds it whole, so writing cannot
    // wait on a child that never reads; what does not fit is dropped.
    ::fcntl(in[1], F_SETFL, O_NONBLOCK);
    size_t sent = 0;
    while (sent < o.input.size()) {
        ssize_t n = ::write(in[1], o.input.data() + sent, o.input.size() - sent);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // full, or the child closed its stdin (SIGPIPE is ignored here)
        sent += static_cast<size_t>(n);
    }
    ::close(in[1]);
    std::string output;
    auto deadline = std::chrono::steady_clock::now() + o.timeout;
    bool timed_out = false, too_much = false;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{out[0], POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        char buf[4096];
        ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (output.size() + static_cast<size_t>(n) > o.max_output) {
            too_much = true;
            break;
        }
        output.append(buf, static_cast<size_t>(n));
    }
    ::close(out[0]);
    if (timed_out || too_much)
        ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        why = argv[0] + " did not finish within " + std::to_string(o.timeout.count()) + " ms";
        return std::nullopt;
    }
    if (too_much) {
        why = argv[0] + " wrote more than " + std::to_string(o.max_output) + " bytes";
        return std::nullopt;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        why = argv[0] + " failed (exit status " +
              std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) +
              ")";
        return std::nullopt;
    }
    return output;
}

} // namespace core::util

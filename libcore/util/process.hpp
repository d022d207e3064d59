#pragma once
// Running a program without a shell: found on a PATH, given a line on stdin
// and an environment, killed after a timeout, its stdout read up to a cap.
// Used for nvidia-smi (resources) and serve's hooks. Safe to call from a
// threaded process: the child does only async-signal-safe work before exec.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace core::util {

struct RunOptions {
    std::string path_env;                    // PATH, to find argv[0] when it has no '/'
    std::chrono::milliseconds timeout{3000}; // then SIGKILL
    std::string input;                       // written to its stdin, which is then closed
    // Its environment, "NAME=value" each; nullopt: none at all.
    std::optional<std::vector<std::string>> env;
    size_t max_output = 1 << 20; // more on stdout fails the run
};

// Runs argv (argv[0] looked up on options.path_env unless it holds a '/');
// returns its stdout when it exits 0 within the timeout, else nullopt with
// the reason in `why` (not found, killed after the timeout, its exit status).
// stderr goes to /dev/null.
std::optional<std::string> run_program(const std::vector<std::string>& argv,
                                       const RunOptions& options, std::string& why);

} // namespace core::util

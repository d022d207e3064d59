#pragma once
// The one place where failures become messages and exit codes.
//
// Exit codes (documented in README.md and man/modelctl.1):
//   0 ok, 1 operation failed, 2 usage error, 3 server unreachable,
//   4 refused (by policy, or the server lacks memory), 130 interrupted
//   (Ctrl-C), as shells report a process SIGINT ended.

#include "error.hpp"

#include <nlohmann/json.hpp>

#include <exception>
#include <string>

namespace modelctl {

enum ExitCode {
    kOk = 0,
    kFailed = 1,
    kUsage = 2,
    kUnreachable = 3,
    kRefused = 4,
    kInterrupted = 130
};

int exit_code_for(core::ErrorKind kind);

// Prints "modelctl: error: MESSAGE (hint: HINT)" on stderr; returns the exit code.
int report(const std::exception& e);
// The error boundary's report: report(e), and with `json` the document
// {"schema": "modelctl.error/v1", "error": error_json(e)} on stdout too, so
// that a script reading stdout always gets JSON.
int report(const std::exception& e, bool json);
int report(const std::string& message, const std::string& hint, int code);

// For a command acting on several models; call it only inside the catch
// block that caught `e`. An error that makes the rest
// pointless (server unreachable, bad usage, unusable store) is rethrown; any
// other is reported on stderr, its exit code kept in `exit_code` if it is the
// first, and returned as {"model": ..., "ok": false, "error": ...}.
nlohmann::ordered_json model_failure(const core::Error& e, const std::string& model,
                                     int& exit_code);
// The same for a failure that is not being handled (a model the plan set
// aside): reports it, keeps its exit code if first, returns the JSON.
nlohmann::ordered_json failed_model(const core::Error& e, const std::string& model, int& exit_code);

// For a command going through several endpoints: reports `e` as "endpoint
// NAME: ..." and keeps its exit code in `exit_code` if it is the first.
void report_endpoint(const std::string& endpoint, const core::Error& e, int& exit_code);

// {"kind": "not_found", "message": ..., "hint": ..., "exit_code": 1} for --json output.
nlohmann::ordered_json error_json(const std::exception& e);

} // namespace modelctl

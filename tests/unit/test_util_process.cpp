#include "util/process.hpp"

#include <doctest/doctest.h>

#include <string>

using core::util::run_program;
using core::util::RunOptions;
using namespace std::chrono_literals;

namespace {
RunOptions with_path() {
    RunOptions o;
    o.path_env = "/usr/bin:/bin";
    return o;
}
} // namespace

TEST_CASE("run_program: stdin in, stdout out, no shell") {
    auto o = with_path();
    o.input = "{\"type\": \"load\"}\n";
    std::string why;
    auto out = run_program({"cat"}, o, why);
    REQUIRE(out);
    CHECK(*out == "{\"type\": \"load\"}\n");
    // Arguments are not split or expanded by a shell.
    out = run_program({"echo", "$HOME; rm -rf /"}, o, why);
    REQUIRE(out);
    CHECK(*out == "$HOME; rm -rf /\n");
}

TEST_CASE("run_program: the environment given, and only it") {
    auto o = with_path();
    o.env = std::vector<std::string>{"MODELCTL_EVENT=load", "MODELCTL_MODEL=llama3.2:1b"};
    std::string why;
    auto out = run_program({"/usr/bin/env"}, o, why);
    REQUIRE(out);
    CHECK(*out == "MODELCTL_EVENT=load\nMODELCTL_MODEL=llama3.2:1b\n");
}

TEST_CASE("run_program: failures say why") {
    auto o = with_path();
    std::string why;
    CHECK_FALSE(run_program({"no-such-program-here"}, o, why));
    CHECK(why == "no-such-program-here not found on PATH");
    CHECK_FALSE(run_program({"/nonexistent/prog"}, o, why));
    CHECK(why == "/nonexistent/prog is not an executable file");
    CHECK_FALSE(run_program({"false"}, o, why));
    CHECK(why == "false failed (exit status 1)");
    o.timeout = 100ms;
    CHECK_FALSE(run_program({"sleep", "10"}, o, why));
    CHECK(why == "sleep did not finish within 100 ms");
    o.timeout = 10s;
    o.max_output = 1000;
    CHECK_FALSE(run_program({"head", "-c", "100000", "/dev/zero"}, o, why));
    CHECK(why == "head wrote more than 1000 bytes");
    CHECK_FALSE(run_program({}, o, why));
}

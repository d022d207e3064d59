// Configuration: precedence flags > environment > file > defaults, and errors
// that name the file and the key.
#include "config/config.hpp"
#include "error.hpp"
#include "scratch.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace core;
using namespace core::config;

namespace {

const Setting& setting(const Config& c, const std::string& key) {
    for (const auto& s : c.settings)
        if (s.key == key)
            return s;
    throw std::runtime_error("no key " + key);
}

std::filesystem::path write(const Scratch& s, const std::string& text) {
    auto p = s.path / "config.json";
    std::ofstream(p) << text;
    return p;
}

// Loading `text` fails with Error{Usage} whose message is the file's name, ": ", `message`.
void check_error(const Scratch& s, const std::string& text, const std::string& message) {
    auto file = write(s, text);
    try {
        load(Environment(), file);
        FAIL("no error for " << text);
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Usage);
        CHECK(std::string(e.what()) == file.string() + ": " + message);
    }
}

} // namespace

TEST_CASE("defaults, and where the file is looked for") {
    Scratch s;
    Environment env({{"HOME", s.path.string()}});
    Config c = load(env, std::nullopt);
    CHECK(c.file == s.path / ".config/modelctl/config.json");
    CHECK_FALSE(c.file_exists);
    CHECK(c.timeout.count() == 300);
    CHECK(c.idle_timeout.count() == 1800);
    CHECK_FALSE(c.keep_alive);
    CHECK_FALSE(c.memory);
    CHECK(c.gpu_max_percent == 90);
    CHECK(setting(c, "timeout").source == Source::Default);
    CHECK(setting(c, "timeout").value == "5m");

    Environment xdg({{"HOME", "/home/x"}, {"XDG_CONFIG_HOME", "/etc/xdg-here"}});
    CHECK(default_path(xdg) == "/etc/xdg-here/modelctl/config.json");
    Environment relative({{"HOME", "/home/x"}, {"XDG_CONFIG_HOME", "rel"}});
    CHECK(default_path(relative) ==
          "/home/x/.config/modelctl/config.json"); // XDG: must be absolute
}

TEST_CASE("precedence: flags > environment > file > defaults") {
    Scratch s;
    auto file = write(s, R"({"timeout": "1m", "idle_timeout": 600, "budget": {"max_loaded": 2,
        "gpu": {"min_free": "2GB"}}, "memory": {"vram": "24GB"}})");
    Environment env({{"MODELCTL_TIMEOUT", "2m"}, {"MODELCTL_BUDGET_MAX_LOADED", "4"}});
    Config c = load(env, file, {{"timeout", {"--timeout", "3m"}}});
    CHECK(c.file_exists);
    CHECK(c.timeout.count() == 180);
    CHECK(setting(c, "timeout").source == Source::Flag);
    CHECK(setting(c, "timeout").origin == "--timeout");
    CHECK(c.max_loaded == 4);
    CHECK(setting(c, "budget.max_loaded").origin == "MODELCTL_BUDGET_MAX_LOADED");
    CHECK(c.idle_timeout.count() == 600);
    CHECK(setting(c, "idle_timeout").source == Source::File);
    CHECK(setting(c, "idle_timeout").origin == file.string());
    CHECK(c.gpu_min_free == 2000000000ULL);
    CHECK(c.vram == 24000000000ULL);
    CHECK(c.ram_min_free == 4000000000ULL);

    Config no_flag = load(env, file);
    CHECK(no_flag.timeout.count() == 120);
    Config file_only = load(Environment(), file);
    CHECK(file_only.timeout.count() == 60);
}

TEST_CASE("per-model settings, keyed as written") {
    Scratch s;
    auto file = write(s, R"({"models": {"llama3.1:8b": {"pin": true, "priority": 7,
        "keep_alive": "2h", "idle_timeout": "4h", "num_ctx": 8192}, "phi3": {"priority": 1}}})");
    Config c = load(Environment(), file);
    REQUIRE(c.models.count("llama3.1:8b"));
    const auto& m = c.models["llama3.1:8b"];
    CHECK(m.pin == true);
    CHECK(m.priority == 7);
    CHECK(m.keep_alive->value.count() == 7200);
    CHECK(m.idle_timeout->count() == 14400);
    CHECK(m.num_ctx == 8192);
    CHECK(c.models.count("phi3")); // keys as written: each endpoint reads them by its own rule
}

TEST_CASE("bad input names the file or variable and the key") {
    Scratch s;
    check_error(s, R"({"timeuot": "5m"})", "unknown key 'timeuot'");
    check_error(s, R"({"budget": {"gpu": {"max_memory_percnt": 5}}})",
                "unknown key 'budget.gpu.max_memory_percnt'");
    check_error(s, R"({"timeout": "soon"})",
                "timeout: 'soon' is not a duration of at most 36500d (e.g. 30s, 30m, 2h)");
    check_error(s, R"({"timeout": 0})", "timeout: '0' must be more than 0");
    check_error(s, R"({"budget": {"gpu": {"max_memory_percent": 150}}})",
                "budget.gpu.max_memory_percent: '150' is not a percentage above 0, at most 100");
    check_error(s, R"({"models": {"x": {"priority": 12}}})",
                "models.x.priority: '12' is not a whole number from 0 to 9");
    check_error(s, R"({"models": {"x": {"pinned": true}}})", "unknown key 'models.x.pinned'");
    check_error(s, R"({"timeout": [1]})", "timeout: expected a string, number or boolean, got [1]");
    check_error(s, "{not json", "not valid JSON at line 1, column 3"); // at the o of "no(ll)"
    check_error(s, "[1]", "not a JSON object");

    try {
        Environment env({{"MODELCTL_BUDGET_MEMORY", "lots"}, {"X", "y"}});
        load(env, std::nullopt);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) ==
              "MODELCTL_BUDGET_MEMORY: budget.memory: 'lots' is not a size (e.g. 24GB, 512MiB)");
    }
    CHECK_THROWS_AS(load(Environment(), s.path / "missing.json"), Error); // named: must exist
}

TEST_CASE("hooks: argv lists by event, a timeout, a limit; anything else refused") {
    Scratch s;
    auto cfg = load(Environment(), write(s, R"({"hooks": {
        "on_load": ["notify-send", "modelctl", "loaded"],
        "on_pressure": ["sh", "-c", "logger -t modelctl"],
        "timeout": "30s", "max_running": 2}})"));
    CHECK(cfg.hooks.commands.size() == 2);
    CHECK(cfg.hooks.commands["on_load"] ==
          std::vector<std::string>{"notify-send", "modelctl", "loaded"});
    CHECK(cfg.hooks.timeout == util::Seconds(30));
    CHECK(cfg.hooks.max_running == 2u);
    CHECK(load(Environment(), write(s, "{}")).hooks.commands.empty());

    check_error(s, R"({"hooks": {"on_load": "notify-send modelctl"}})",
                R"(hooks.on_load: expected a command as a list, e.g. ["notify-send", "modelctl"])");
    check_error(s, R"({"hooks": {"on_load": []}})",
                R"(hooks.on_load: expected a command as a list, e.g. ["notify-send", "modelctl"])");
    check_error(s, R"({"hooks": {"on_load": ["x", 1]}})",
                "hooks.on_load: every part of the command must be a string");
    check_error(s, R"({"hooks": {"on_load": [""]}})", "hooks.on_load: the program's name is empty");
    check_error(s, R"({"hooks": {"on_loaded": ["x"]}})", "unknown key 'hooks.on_loaded'");
    check_error(s, R"({"hooks": {"timeout": "2h"}})", "hooks.timeout: '2h' is longer than an hour");
    check_error(s, R"({"hooks": {"max_running": 0}})",
                "hooks.max_running: '0' is not a whole number from 1 to 64");
    check_error(s, R"({"hooks": ["x"]})",
                R"(hooks: expected an object: {"on_load": ["program", "arg", ...], ...})");
}

TEST_CASE("a file that is not JSON: its line and column, and the trailing comma named") {
    Scratch s;
    auto file = write(s, "{\n  \"idle_timeout\": \"30m\",\n  \"keep_alive\": \"5m\",\n}\n");
    try {
        load(Environment(), file);
        FAIL("no error");
    } catch (const core::Error& e) {
        CHECK(std::string(e.what()).find("not valid JSON at line 4, column 1") !=
              std::string::npos);
        CHECK(e.hint().find("remove the comma before it") != std::string::npos);
    }
    file = write(s, "{\"budget\": {\"memory\" \"8GB\"}}");
    try {
        load(Environment(), file);
        FAIL("no error");
    } catch (const core::Error& e) {
        CHECK(std::string(e.what()).find("not valid JSON at line 1, column") != std::string::npos);
        CHECK(e.hint().find("comma") == std::string::npos); // not that slip
    }
}

TEST_CASE("a MODELCTL_ variable modelctl does not read is warned of, with the one meant") {
    Scratch s;
    auto file = write(s, R"({"serve": {"token_env": "MODELCTL_MY_TOKEN"}})");
    auto cfg = load(Environment({{"MODELCTL_BUDGT_MEMORY", "8GB"},
                                 {"MODELCTL_BUDGET_MAX_LOADED", "2"},
                                 {"MODELCTL_MY_TOKEN", "x"},  // the config names it
                                 {"MODELCTL_HOME", "/tmp/x"}, // read by the store
                                 {"MODELCTL_EVENT", "load"},  // set for hooks
                                 {"MODELCTL", "/usr/bin/modelctl"},
                                 {"OLLAMA_HOST", "x:1"}}),
                    file);
    REQUIRE(cfg.warnings.size() == 1);
    CHECK(cfg.warnings[0] == "MODELCTL_BUDGT_MEMORY is not a variable modelctl reads (did you mean "
                             "MODELCTL_BUDGET_MEMORY?)");
}

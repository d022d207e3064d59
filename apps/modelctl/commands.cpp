#include "commands.hpp"

#include "cmd_bench.hpp"
#include "cmd_chain.hpp"
#include "cmd_config.hpp"
#include "cmd_endpoints.hpp"
#include "cmd_gc.hpp"
#include "cmd_health.hpp"
#include "cmd_help.hpp"
#include "cmd_load.hpp"
#include "cmd_pin.hpp"
#include "cmd_preload.hpp"
#include "cmd_priority.hpp"
#include "cmd_pull.hpp"
#include "cmd_recommend.hpp"
#include "cmd_record.hpp"
#include "cmd_rm.hpp"
#include "cmd_rollback.hpp"
#include "cmd_run.hpp"
#include "cmd_serve.hpp"
#include "cmd_show.hpp"
#include "cmd_simulate.hpp"
#include "cmd_spec.hpp"
#include "cmd_stats.hpp"
#include "cmd_status.hpp"
#include "cmd_store.hpp"
#include "cmd_unload.hpp"
#include "cmd_versions.hpp"
#include "errors.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iostream>

#ifndef MODELCTL_VERSION
#define MODELCTL_VERSION "0.0.0"
#endif

namespace modelctl {

namespace {

constexpr Command kCommands[] = {
    {"status", setup_status},
    {"list", setup_list},
    {"load", setup_load},
    {"unload", setup_unload},
    {"rm", setup_rm},
    {"show", setup_show},
    {"gc", setup_gc},
    {"pin", setup_pin},
    {"unpin", setup_unpin},
    {"priority", setup_priority},
    {"pull", setup_pull},
    {"versions", setup_versions},
    {"rollback", setup_rollback},
    {"record", setup_record},
    {"run", setup_run},
    {"chain", setup_chain},
    {"recommend", setup_recommend},
    {"preload", setup_preload},
    {"stats", setup_stats},
    {"bench", setup_bench},
    {"health", setup_health},
    {"serve", setup_serve},
    {"endpoints", setup_endpoints},
    {"config", setup_config},
    {"simulate", setup_simulate},
    {"store", setup_store},
    {"help", setup_help},
    {"__spec", setup_spec},
};

} // namespace

void setup_app(CLI::App& app, Context& ctx) {
    app.description("modelctl: decide which local LLM models sit in memory");
    app.set_version_flag("--version", "modelctl " MODELCTL_VERSION);
    app.require_subcommand(1);
    app.fallthrough(); // global options may follow the subcommand
    auto& g = ctx.global;
    app.add_option("--host", g.host,
                   "Address of the default Ollama server (default: $OLLAMA_HOST, else "
                   "127.0.0.1:11434)");
    app.add_option("--endpoint", g.endpoint,
                   "The server to use, by name: a configured endpoint, or ollama / lmstudio "
                   "(default: $MODELCTL_ENDPOINT, else the first)");
    app.add_option("--timeout", g.timeout,
                   "One deadline per server request, e.g. 30s, 10m (default 5m)");
    app.add_option("--config", g.config,
                   "Config file (default: $XDG_CONFIG_HOME/modelctl/config.json)");
    app.add_flag("--json", g.json, "Machine-readable output (schema in docs/JSON.md)");
    app.add_flag("-q,--quiet", g.quiet, "Print only what scripts need");
    app.add_flag("-v,--verbose", g.verbose, "Say what is happening on stderr");
    for (const auto& c : kCommands)
        c.setup(app, ctx);
}

namespace {

// The global options that take a value (their value is not a command).
bool takes_value(const std::string& arg) {
    for (const char* o : {"--host", "--endpoint", "--timeout", "--config"})
        if (arg == o)
            return true;
    return false;
}

// A positional argument as usage lines name it: "models" -> "MODEL" (one
// of many), "file" -> "FILE".
std::string positional_label(const CLI::Option& o) {
    std::string name = o.get_name();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (o.get_items_expected_max() > 1 && name.size() > 1 && name.back() == 'S')
        name.pop_back();
    return name;
}

// How a command is used: "modelctl load [OPTIONS] MODEL...".
std::string usage_line(const CLI::App& sub, const std::string& path) {
    std::string out = "modelctl " + path;
    if (!sub.get_subcommands({}).empty()) {
        out += " COMMAND (";
        std::string names;
        for (const auto* c : sub.get_subcommands({}))
            names += (names.empty() ? "" : ", ") + c->get_name();
        return out + names + ")";
    }
    out += " [OPTIONS]";
    for (const auto* o : sub.get_options())
        if (o->get_positional()) {
            std::string item =
                positional_label(*o) + (o->get_items_expected_max() > 1 ? "..." : "");
            out += " " + (o->get_required() ? item : "[" + item + "]");
        }
    return out;
}

// Every name of `sub`'s options and the global ones ("--all", "-a").
std::vector<std::string> option_names(const CLI::App& app, const CLI::App* sub) {
    std::vector<std::string> out;
    for (const CLI::App* a : {sub, &app})
        if (a)
            for (const auto* o : a->get_options())
                if (!o->get_positional()) {
                    for (const auto& l : o->get_lnames())
                        out.push_back("--" + l);
                    for (const auto& n : o->get_snames())
                        out.push_back("-" + n);
                }
    return out;
}

std::string after(const std::string& text, const std::string& marker) {
    auto at = text.find(marker);
    return at == std::string::npos ? "" : text.substr(at + marker.size());
}

} // namespace

int report_parse(const CLI::App& app, const CLI::ParseError& e,
                 const std::vector<std::string>& args, bool json) {
    if (e.get_exit_code() == 0)
        return app.exit(e); // --help, --version
    // The deepest command given (config check: check).
    const CLI::App* sub = nullptr;
    std::string path; // "config check"
    for (const CLI::App* at = &app;;) {
        auto given = at->get_subcommands();
        if (given.empty())
            break;
        sub = at = given.front();
        path += (path.empty() ? "" : " ") + sub->get_name();
    }
    std::string what = e.what();
    std::string message = what,
                hint = "see 'modelctl " + (path.empty() ? "" : path + " ") + "--help'";
    auto suggest = [&](const std::string& near, const std::string& rest) {
        return near.empty() ? rest : "did you mean '" + near + "'? " + rest;
    };
    bool no_command = !sub && (dynamic_cast<const CLI::RequiredError*>(&e) ||
                               dynamic_cast<const CLI::ExtrasError*>(&e));
    if (no_command) {
        std::string word;
        for (size_t i = 0; i < args.size() && word.empty(); ++i) {
            if (takes_value(args[i]))
                ++i;
            else if (!args[i].empty() && args[i][0] != '-')
                word = args[i];
        }
        std::vector<std::string> names;
        for (const auto* c : app.get_subcommands({}))
            if (c->get_name().substr(0, 2) != "__") {
                names.push_back(c->get_name());
                for (const auto& alias : c->get_aliases())
                    names.push_back(alias);
            }
        if (!word.empty()) {
            message = "unknown command '" + core::util::printable(word) + "'";
            hint = suggest(core::util::closest(word, names), "'modelctl --help' lists them");
        } else {
            message = "name a command";
            hint = "e.g. modelctl status; 'modelctl --help' lists them";
        }
    } else if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
        std::string extra = after(what, "expected: ");
        extra = extra.substr(0, extra.find(' '));
        extra = extra.substr(0, extra.find('='));
        if (!extra.empty() && extra[0] == '-') {
            message = path + ": unknown option '" + core::util::printable(extra) + "'";
            hint = suggest(core::util::closest(extra, option_names(app, sub)), hint);
        } else {
            message = path + ": unexpected argument '" + core::util::printable(extra) + "'";
            hint = "usage: " + usage_line(*sub, path);
        }
    } else if (dynamic_cast<const CLI::RequiredError*>(&e)) {
        if (what.find("subcommand") != std::string::npos) {
            message = path + " needs a command";
            hint = "usage: " + usage_line(*sub, path);
        } else {
            std::string name = what.substr(0, what.find(' '));
            message = path + " needs " + name;
            hint = "usage: " + usage_line(*sub, path);
            for (const auto* o : sub->get_options())
                if (o->get_positional() && o->get_name() == name)
                    message = path + " needs " +
                              (o->get_items_expected_max() > 1 ? "at least one " : "a ") +
                              positional_label(*o);
        }
    } else if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) &&
               what.find(" required ") != std::string::npos) {
        std::string name = what.substr(0, what.find(':'));
        message = name + " needs a value";
    } else if (dynamic_cast<const CLI::ConversionError*>(&e)) {
        // "Could not convert: --runs = abc"
        std::string rest = after(what, "convert: ");
        auto eq = rest.find(" = ");
        if (eq != std::string::npos)
            message = rest.substr(0, eq) + ": '" + core::util::printable(rest.substr(eq + 3)) +
                      "' is not a number";
    } else if (dynamic_cast<const CLI::ExcludesError*>(&e)) {
        auto ex = what.find(" excludes ");
        if (ex != std::string::npos)
            message =
                what.substr(0, ex) + " and " + what.substr(ex + 10) + " cannot be used together";
    }
    core::Error err(core::ErrorKind::Usage, message, hint);
    return report(err, json);
}

CLI::Validator positive_number() {
    return CLI::Validator(
        [](std::string& v) -> std::string {
            char* end = nullptr;
            double d = std::strtod(v.c_str(), &end);
            return end && *end == 0 && !v.empty() && d > 0 && std::isfinite(d)
                       ? ""
                       : "'" + core::util::printable(v) + "' is not a number above 0";
        },
        "NUMBER>0");
}

CLI::Validator non_negative_number() {
    return CLI::Validator(
        [](std::string& v) -> std::string {
            char* end = nullptr;
            double d = std::strtod(v.c_str(), &end);
            return end && *end == 0 && !v.empty() && d >= 0 && std::isfinite(d)
                       ? ""
                       : "'" + core::util::printable(v) + "' is not a number, 0 or more";
        },
        "NUMBER>=0");
}

CLI::Validator whole_number_from(int low, int high) {
    return CLI::Validator(
        [low, high](std::string& v) -> std::string {
            int n = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec == std::errc() && p == v.data() + v.size() && n >= low && n <= high)
                return "";
            return "'" + core::util::printable(v) + "' is not a whole number from " +
                   std::to_string(low) + " to " + std::to_string(high);
        },
        std::to_string(low) + "-" + std::to_string(high));
}

CLI::Validator one_of(std::vector<std::string> values) {
    std::string list;
    for (const auto& v : values)
        list += (list.empty() ? "" : ", ") + v;
    return CLI::Validator(
        [values, list](std::string& v) -> std::string {
            for (const auto& ok : values)
                if (v == ok)
                    return "";
            return "'" + core::util::printable(v) + "' is not one of " + list;
        },
        "{" + list + "}");
}

} // namespace modelctl

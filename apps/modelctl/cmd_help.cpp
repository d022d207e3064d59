#include "cmd_help.hpp"

#include "error.hpp"
#include "util/text.hpp"

#include <iostream>
#include <memory>

namespace modelctl {

void setup_help(CLI::App& app, Context& ctx) {
    auto words = std::make_shared<std::vector<std::string>>();
    auto* sub = app.add_subcommand("help", "Show the help of modelctl or of a command");
    sub->add_option("command", *words, "The command, e.g. status, or config check");
    sub->callback([&app, &ctx, words] {
        const CLI::App* at = &app;
        std::string path;
        for (const auto& w : *words) {
            std::vector<std::string> names;
            const CLI::App* next = nullptr;
            for (const auto* c : at->get_subcommands({})) {
                if (c->get_name().substr(0, 2) == "__")
                    continue;
                names.push_back(c->get_name());
                if (c->check_name(w))
                    next = c;
            }
            if (!next) {
                std::string near = core::util::closest(w, names);
                throw core::Error(core::ErrorKind::Usage,
                                  "no command '" + core::util::printable(w) + "'" +
                                      (path.empty() ? "" : " in modelctl " + path),
                                  (near.empty() ? "" : "did you mean '" + near + "'? ") +
                                      std::string("'modelctl ") + path + (path.empty() ? "" : " ") +
                                      "--help' lists them");
            }
            path += (path.empty() ? "" : " ") + next->get_name();
            at = next;
        }
        // (App::help() would describe `help` itself, the command given.)
        std::cout << at->get_formatter()->make_help(
            at, "modelctl" + (path.empty() ? "" : " " + path), CLI::AppFormatMode::Normal);
        ctx.exit_code = 0;
    });
}

} // namespace modelctl

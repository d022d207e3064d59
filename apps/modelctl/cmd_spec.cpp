// `modelctl __spec`: the CLI's shape as JSON (subcommands, their aliases as
// subcommands of their own, and their options),
// read by the test that keeps completions/ and man/ in step. Hidden from help.

#include "cmd_spec.hpp"

#include "output.hpp"

namespace modelctl {

namespace {

nlohmann::ordered_json options_of(const CLI::App& app) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const CLI::Option* o : app.get_options()) {
        for (const auto& l : o->get_lnames())
            out.push_back("--" + l);
        for (const auto& s : o->get_snames())
            out.push_back("-" + s);
    }
    return out;
}

} // namespace

void setup_spec(CLI::App& app, Context&) {
    auto* sub = app.add_subcommand("__spec", "");
    sub->group(""); // hidden
    sub->callback([&app] {
        nlohmann::ordered_json subs = nlohmann::ordered_json::object();
        for (const CLI::App* s :
             app.get_subcommands([](const CLI::App* a) { return a->get_name() != "__spec"; })) {
            subs[s->get_name()] = options_of(*s);
            for (const auto& alias : s->get_aliases()) // `ps` takes what `status` takes
                subs[alias] = options_of(*s);
        }
        print_json({{"global", options_of(app)}, {"subcommands", subs}});
    });
}

} // namespace modelctl

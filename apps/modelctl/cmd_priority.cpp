#include "cmd_priority.hpp"

#include "cmd_pin.hpp"
#include "commands.hpp"
#include "output.hpp"
#include "registry/registry.hpp"

#include <iostream>
#include <memory>

namespace modelctl {

void setup_priority(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<PriorityOptions>();
    auto* sub = app.add_subcommand(
        "priority", "Set a model's priority, 0-9 (default 5): higher is kept longer");
    sub->add_option("model", opts->model, "An installed model")->required();
    sub->add_option("priority", opts->priority, "0 to 9")
        ->required()
        ->check(whole_number_from(0, 9));
    sub->callback([&ctx, opts] { ctx.exit_code = run_priority(ctx, *opts); });
}

int run_priority(Context& ctx, const PriorityOptions& o) {
    ctx.config();
    std::string name = installed_name(ctx, o.model);
    auto provider = ctx.provider();
    auto store = ctx.store();
    core::registry::Registry(*provider, store).set_priority(name, o.priority);
    if (ctx.global.json)
        print_json({{"schema", "modelctl.priority/v1"}, {"model", name}, {"priority", o.priority}});
    else if (!ctx.global.quiet)
        std::cout << name << ": priority " << o.priority << "\n";
    return 0;
}

} // namespace modelctl

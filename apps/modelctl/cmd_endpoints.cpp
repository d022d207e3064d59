#include "cmd_endpoints.hpp"

#include "errors.hpp"
#include "output.hpp"
#include "plan_output.hpp"
#include "util/size.hpp"

#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;

void setup_endpoints(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<EndpointsOptions>();
    auto* sub = app.add_subcommand(
        "endpoints", "List the servers modelctl manages: reachability, provider, version, budget");
    sub->callback([&ctx, opts] { ctx.exit_code = run_endpoints(ctx, *opts); });
}

int run_endpoints(Context& ctx, const EndpointsOptions&) {
    const auto& selected = ctx.endpoint();
    bool configured = !ctx.config().endpoints.empty();
    int code = 0;
    json list = json::array();
    Table t({"NAME", "PROVIDER", "URL", "STATE", "VERSION", "LOADED", "BUDGET", "TOKEN"});
    for (const auto& e : ctx.endpoints()) {
        // A short wait: this is a listing, not a load.
        auto server = ctx.provider(e, core::util::Seconds(10));
        std::optional<std::vector<core::provider::LoadedModel>> loaded;
        std::string version;
        std::optional<core::Error> error;
        try {
            loaded = server->loaded();
            version = server->version();
        } catch (const core::Error& err) {
            if (err.kind() == core::ErrorKind::Usage || err.kind() == core::ErrorKind::Interrupted)
                throw;
            error = err;
        }
        std::optional<core::resources::BudgetReport> budget;
        std::string no_budget;
        if (loaded) {
            try {
                budget = ctx.budget(e, *loaded);
            } catch (const core::Error& err) {
                no_budget = err.what();
            }
        }
        bool token_set = !e.token_env.empty() && ctx.env.get_nonempty(e.token_env).has_value();
        std::string state = loaded ? "up"
                            : error && error->kind() == core::ErrorKind::Unauthorized
                                ? "unauthorized"
                            : e.optional ? "absent"
                                         : "unreachable";
        if (error && !e.optional)
            report_endpoint(e.name, *error, code);
        list.push_back({{"name", e.name},
                        {"provider", e.provider},
                        {"url", e.address.url()},
                        {"configured", configured},
                        {"optional", e.optional},
                        {"selected", e.name == selected.name},
                        {"reachable", loaded.has_value()},
                        {"error", error ? error_json(*error) : json(nullptr)},
                        {"version", loaded ? json(version) : json(nullptr)},
                        {"loaded", loaded ? json(loaded->size()) : json(nullptr)},
                        {"budget", budget ? budget_json(*budget) : json(nullptr)},
                        {"token_env", e.token_env.empty() ? json(nullptr) : json(e.token_env)},
                        {"token_set", token_set}});
        t.add(
            {(e.name == selected.name ? "* " : "  ") + e.name, e.provider, e.address.url(), state,
             loaded ? version : "-", loaded ? std::to_string(loaded->size()) : "-",
             budget   ? core::util::format_size(budget->budget.bytes) + " " + budget->pool
             : loaded ? "none"
                      : "-",
             e.token_env.empty() ? "-" : "$" + e.token_env + (token_set ? " (set)" : " (unset)")});
    }
    if (ctx.global.json) {
        print_json({{"schema", "modelctl.endpoints/v1"},
                    {"selected", selected.name},
                    {"endpoints", list}});
    } else if (ctx.global.quiet) {
        for (const auto& e : list)
            if (e["reachable"].get<bool>())
                std::cout << e["name"].get<std::string>() << "\n";
    } else {
        t.print(std::cout, ctx.color());
        if (!configured)
            std::cout << "(the defaults: no endpoints in " << ctx.config().file.string()
                      << "; * marks the one commands use)\n";
    }
    return code;
}

} // namespace modelctl

#pragma once
// `modelctl pin MODEL...` / `unpin MODEL...`: pinned models are never evicted
// by load or gc. Kept in the store, beside the config file's `pin`: a model
// is pinned when either pins it, so unpin cannot undo a pin in the file (it
// says so, exit 1).

#include "context.hpp"
#include "provider/provider.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace modelctl {

struct PinOptions {
    std::vector<std::string> models;
    bool pin = true;
};

void setup_pin(CLI::App& app, Context& ctx);
void setup_unpin(CLI::App& app, Context& ctx);
int run_pin(Context& ctx, const PinOptions& options);

// The model a user named among `installed` (the server's list, asked once
// for all the names of a command), or Error{NotFound} with a hint: pins and
// priorities for a misspelt name would silently do nothing.
const core::provider::InstalledModel&
find_installed(Context& ctx, const std::vector<core::provider::InstalledModel>& installed,
               const std::string& model, const std::string& server);
// find_installed for one name, asking the endpoint's server.
std::string installed_name(Context& ctx, const std::string& model);

} // namespace modelctl

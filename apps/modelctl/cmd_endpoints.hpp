#pragma once
// `modelctl endpoints`: the servers modelctl manages, whether each answers,
// its provider, version and memory budget.

#include "context.hpp"

#include <CLI/CLI.hpp>

namespace modelctl {

struct EndpointsOptions {};

void setup_endpoints(CLI::App& app, Context& ctx);
int run_endpoints(Context& ctx, const EndpointsOptions& options);

} // namespace modelctl

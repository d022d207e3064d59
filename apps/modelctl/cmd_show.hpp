#pragma once
// `modelctl show MODEL` (as ollama show): the model as its server describes
// it (architecture, parameters, context and embedding length, quantization,
// capabilities), then what modelctl knows of it: loaded or not, pin and
// priority, the settings that apply, memory observed, loads and uses.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace modelctl {

struct ShowOptions {
    std::string model;
};

void setup_show(CLI::App& app, Context& ctx);
int run_show(Context& ctx, const ShowOptions& options);

} // namespace modelctl

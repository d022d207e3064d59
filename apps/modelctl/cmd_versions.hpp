#pragma once
// `modelctl versions MODEL`: a model's version history (digests, when
// pulled, kept or not, which is current, sizes, bench figures). Also what
// pull, rollback and gc --versions share.

#include "context.hpp"
#include "provider/provider.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <set>
#include <string>

namespace modelctl {

struct VersionsOptions {
    std::string model;
};

void setup_versions(CLI::App& app, Context& ctx);
int run_versions(Context& ctx, const VersionsOptions& options);

// The endpoint's server, when it manages model files (Ollama); throws
// Error{Usage} naming the endpoint otherwise.
std::unique_ptr<core::provider::Provider> model_files_server(Context& ctx, const Endpoint& e);

} // namespace modelctl

#pragma once
// `modelctl serve [--listen ADDR] [--port-file F]`: a reverse proxy in front of
// the endpoint's server; requests that load a model are admitted by the
// policy, and every answer is recorded as a use (libcore/serve).

#include "context.hpp"
#include "serve/admission.hpp"
#include "serve/recorder.hpp"
#include "serve/telemetry.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace modelctl {

struct ServeOptions {
    std::string listen;    // --listen HOST:PORT; empty: serve.listen
    std::string port_file; // --port-file: the bound port, once listening
};

void setup_serve(CLI::App& app, Context& ctx);
int run_serve(Context& ctx, const ServeOptions& options);

// "HOST:PORT" ("[::1]:11435", ":11435" for every address) split; throws
// Error{Usage} for anything else.
std::pair<std::string, int> parse_listen(const std::string& text);

// The "serve" part of GET /modelctl/v1/status: memory pressure, models
// serve is backing off from, requests in flight and waiting (docs/JSON.md).
nlohmann::json serve_state_json(const core::serve::Admission::Snapshot& a);

// GET /metrics: serve's counters in the Prometheus text format (docs/JSON.md
// lists the families).
std::string serve_metrics_text(const core::serve::Telemetry::Snapshot& t,
                               const core::serve::Admission::Snapshot& a,
                               const core::serve::Recorder::Counts& r);

} // namespace modelctl

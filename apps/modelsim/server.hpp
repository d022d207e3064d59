#pragma once
// modelsim's HTTP front: Ollama's (or LM Studio's) API routes over a Simulator, with faults
// injected on demand so that clients can be tested against every failure.

#include "simulator.hpp"

#include <httplib.h>

#include <atomic>
#include <set>
#include <string>

namespace modelsim {

struct Faults {
    int delay_ms = 0;             // delay every answer
    std::atomic<int> busy{0};     // answer 503 to this many API requests (-1: all)
    bool oom = false;             // every load fails with Ollama's out-of-memory error
    bool malformed = false;       // API answers are not valid JSON
    bool truncate = false;        // generate streams stop without their final line
    bool midstream_error = false; // generate streams end with an {"error": ...} line
    bool pull_fail = false;       // pulls fail half way through the weights (a network error)
    // Answer 503 to this many requests that need a runner (generate, chat,
    // embed and their OpenAI forms; loads too), as Ollama's scheduler does
    // when its queue is full; -1: all of them.
    std::atomic<int> queue_full{0};
    std::set<std::string> fail; // models whose runner crashes on load (normalized names)
};

// Registers Ollama's routes on `server`.
// `listen_host`: the address listened on; on a loopback one, requests whose
// Host is not this machine's are answered 403, as Ollama answers them
// (core::serve::host_allowed).
void install_routes(httplib::Server& server, Simulator& sim, Faults& faults,
                    const std::string& listen_host);

struct LmStudioOptions {
    std::string token;    // required as a bearer token when not empty
    bool v0_only = false; // a server before LM Studio 0.4: /api/v1/* answer 404
};

// Registers LM Studio's routes (REST API v1 and the v0 listing, the
// OpenAI-compatible /v1/embeddings) on `server`, for a Simulator made with
// SimConfig::lmstudio.
void install_lmstudio_routes(httplib::Server& server, Simulator& sim, Faults& faults,
                             const LmStudioOptions& options);

} // namespace modelsim

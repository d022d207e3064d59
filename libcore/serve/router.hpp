#pragma once
// serve's front door (issue 18): which of the servers serve fronts a request
// goes to. A model's requests go to the server that has it installed, in the
// configured order of endpoints, unless the config names one for the model
// (models.NAME.endpoint); a request that names no model, or a model no server
// has, goes to the first server that speaks its API (which then answers it,
// e.g. Ollama's 404 "try pulling it first"). A server that did not answer its
// last look may have the model: it gets the request, and its client an
// answer naming it (502), unless it is an optional default endpoint (LM
// Studio at its default port, which most machines do not run).
//
// Each API reaches only the servers that speak it: Ollama's /api/* Ollama
// servers, LM Studio's REST API (/api/v0/*, /api/v1/*) LM Studio servers,
// the OpenAI-compatible /v1/* both. serve translates no API into another.

#include "provider/provider.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace core::serve {

enum class Dialect { Ollama, LmStudio, OpenAI };

// The API a request's path speaks.
Dialect dialect_of(std::string_view path);

// Whether a server of `kind` ("ollama", "lmstudio") answers `d`.
bool speaks(std::string_view kind, Dialect d);

// A server as routing sees it.
struct Candidate {
    std::string name; // the endpoint's
    std::string kind; // "ollama" or "lmstudio"
    bool optional = false;
    // Canonical names of its installed models; nullopt: unknown (it did not
    // answer its last look).
    std::optional<std::set<std::string>> installed;
};

struct Choice {
    std::optional<size_t> index; // nullopt: no server speaks the API
    bool found = false;          // the model is there (or the config names it)
};

// Where a request of dialect `d` for `model` ("": none) goes; `named` is the
// endpoint the config names for the model, if any. A pure function.
Choice choose(const std::vector<Candidate>& servers, Dialect d, const std::string& model,
              const std::optional<std::string>& named);

class Router {
public:
    struct Server {
        std::string name, kind;
        bool optional = false;
        // Its installed models now; throws core::Error when it cannot tell.
        std::function<std::vector<provider::InstalledModel>()> installed;
    };
    // The endpoint the config names for `model` as a server of `kind` names
    // it (models.NAME.endpoint), read at each request: SIGHUP changes it.
    using Named = std::function<std::optional<std::string>(const std::string& kind,
                                                           const std::string& model)>;

    // A model found on no server makes a fresh look, at most once per
    // `min_look` (a client asking for a model no one has must not make
    // serve list every server at each request).
    Router(std::vector<Server> servers, Named named,
           std::chrono::milliseconds min_look = std::chrono::milliseconds(1000));

    size_t size() const { return servers_.size(); }
    const Server& server(size_t i) const { return servers_[i]; }

    // The server for a request of `d` naming `model` ("": none).
    std::optional<size_t> route(Dialect d, const std::string& model);

    // A fresh look at every server's installed models.
    void look();

    // What the last look found on each server.
    struct Seen {
        bool answered = false;
        std::string error; // why not
        std::vector<provider::InstalledModel> models;
    };
    std::vector<Seen> seen() const;

private:
    std::vector<Server> servers_;
    Named named_;
    std::chrono::milliseconds min_look_;
    mutable std::mutex mutex_; // guards the fields below
    std::vector<Candidate> table_;
    std::vector<Seen> seen_;
    std::optional<std::chrono::steady_clock::time_point> looked_;
    std::mutex look_mutex_; // one look at a time
};

} // namespace core::serve

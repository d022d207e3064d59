#include "serve/router.hpp"

#include "error.hpp"

namespace core::serve {

Dialect dialect_of(std::string_view path) {
    if (path.substr(0, 4) == "/v1/" || path == "/v1")
        return Dialect::OpenAI;
    if (path.substr(0, 8) == "/api/v0/" || path.substr(0, 8) == "/api/v1/")
        return Dialect::LmStudio;
    return Dialect::Ollama; // /api/* and the rest ("/", Ollama's "Ollama is running")
}

bool speaks(std::string_view kind, Dialect d) {
    switch (d) {
    case Dialect::Ollama:
        return kind == "ollama";
    case Dialect::LmStudio:
        return kind == "lmstudio";
    case Dialect::OpenAI:
        return true;
    }
    return false;
}

Choice choose(const std::vector<Candidate>& servers, Dialect d, const std::string& model,
              const std::optional<std::string>& named) {
    std::optional<size_t> first, have, down;
    for (size_t i = 0; i < servers.size(); ++i) {
        const auto& s = servers[i];
        if (!speaks(s.kind, d))
            continue;
        if (!first)
            first = i;
        if (model.empty())
            break;
        if (named && *named == s.name)
            return {i, true};
        if (!have && s.installed && s.installed->count(provider::canonical_name(s.kind, model)))
            have = i;
        if (!down && !s.installed && !s.optional)
            down = i;
    }
    if (have)
        return {have, true};
    if (down)
        return {down, false};
    return {first, false};
}

Router::Router(std::vector<Server> servers, Named named, std::chrono::milliseconds min_look)
    : servers_(std::move(servers)), named_(std::move(named)), min_look_(min_look) {
    for (const auto& s : servers_)
        table_.push_back({s.name, s.kind, s.optional, std::nullopt});
    seen_.resize(servers_.size());
}

std::optional<size_t> Router::route(Dialect d, const std::string& model) {
    if (servers_.size() == 1) // one server: everything is its to answer, as without serve
        return 0;
    std::optional<std::string> named;
    if (!model.empty() && named_)
        for (const auto& s : servers_)
            if ((named = named_(s.kind, model)))
                break;
    auto pick = [&] {
        std::lock_guard lock(mutex_);
        return choose(table_, d, model, named);
    };
    Choice c = pick();
    if (c.found || model.empty())
        return c.index;
    bool stale;
    {
        std::lock_guard lock(mutex_);
        stale = !looked_ || std::chrono::steady_clock::now() - *looked_ >= min_look_;
    }
    if (stale) {
        look();
        c = pick();
    }
    return c.index;
}

void Router::look() {
    std::lock_guard one(look_mutex_);
    std::vector<Seen> seen(servers_.size());
    for (size_t i = 0; i < servers_.size(); ++i) {
        try {
            seen[i].models = servers_[i].installed();
            seen[i].answered = true;
        } catch (const std::exception& e) {
            seen[i].error = e.what();
        }
    }
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < servers_.size(); ++i) {
        if (seen[i].answered) {
            std::set<std::string> names;
            for (const auto& m : seen[i].models)
                names.insert(provider::canonical_name(servers_[i].kind, m.name));
            table_[i].installed = std::move(names);
        } else {
            table_[i].installed.reset();
        }
    }
    seen_ = std::move(seen);
    looked_ = std::chrono::steady_clock::now();
}

std::vector<Router::Seen> Router::seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
}

} // namespace core::serve

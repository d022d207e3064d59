#include "operations/chain.hpp"

#include "error.hpp"
#include "policy/replay.hpp"
#include "util/size.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace core::operations {

using json = nlohmann::json;

namespace {

Error bad_step(size_t i, const std::string& what, const std::string& hint = "") {
    return Error(ErrorKind::Usage, "chain step " + std::to_string(i + 1) + ": " + what,
                 hint.empty() ? "a step is {\"model\": ..., \"prompt\": ...}, with \"options\", "
                                "\"keep_alive\", \"num_ctx\", \"task\" and \"timeout\" optional"
                              : hint);
}

// Each {step.N} in `prompt` must name an earlier step than `i`.
void check_references(const std::string& prompt, size_t i) {
    const std::string open = "{step.";
    for (size_t at = prompt.find(open); at != std::string::npos; at = prompt.find(open, at + 1)) {
        size_t close = prompt.find('}', at);
        if (close == std::string::npos)
            continue;
        std::string_view digits(prompt.data() + at + open.size(), close - at - open.size());
        size_t n = 0;
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc() || p != digits.data() + digits.size())
            continue; // not a reference: left as written
        if (n < 1 || n > i)
            throw bad_step(i, "{step." + std::to_string(n) + "} is not an earlier step",
                           i == 0 ? "the first step can use {input}, the chain's --input"
                                  : "{step.1} to {step." + std::to_string(i) +
                                        "} are the answers before it; {input} the last of them");
    }
}

ChainStepSpec parse_step(const json& j, size_t i) {
    if (!j.is_object())
        throw bad_step(i, "not an object");
    ChainStepSpec s;
    for (const auto& [k, v] : j.items()) {
        if (k == "model" || k == "prompt" || k == "task") {
            if (!v.is_string() || v.get_ref<const std::string&>().empty())
                throw bad_step(i, "\"" + k + "\" must be a string, not empty");
            (k == "model" ? s.model : k == "prompt" ? s.prompt : s.task) = v.get<std::string>();
        } else if (k == "options") {
            if (!v.is_object())
                throw bad_step(i, "\"options\" must be an object, e.g. {\"temperature\": 0}");
            s.options = v;
        } else if (k == "keep_alive") {
            std::string text = v.is_string()           ? v.get<std::string>()
                               : v.is_number_integer() ? std::to_string(v.get<int64_t>()) + "s"
                                                       : "";
            if (v.is_number_integer() && v.get<int64_t>() < 0)
                text = "forever";
            auto ka = util::parse_keep_alive(text);
            if (!ka)
                throw bad_step(i, "\"keep_alive\" must be a duration such as \"10m\", or forever");
            s.keep_alive = ka;
        } else if (k == "timeout") {
            auto d = v.is_string() ? util::parse_duration(v.get<std::string>()) : std::nullopt;
            if (!d || d->count() <= 0)
                throw bad_step(i, "\"timeout\" must be a duration such as \"10m\"");
            s.timeout = d;
        } else if (k == "num_ctx") {
            if (v == "max")
                s.num_ctx = kNumCtxMax;
            else if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > (1 << 24))
                throw bad_step(i, "\"num_ctx\" must be a context length such as 8192, or \"max\"");
            else
                s.num_ctx = static_cast<int>(v.get<int64_t>());
        } else {
            throw bad_step(i, "unknown field \"" + util::printable(k) + "\"");
        }
    }
    if (s.model.empty())
        throw bad_step(i, "no \"model\"");
    if (s.prompt.empty())
        throw bad_step(i, "no \"prompt\"");
    check_references(s.prompt, i);
    return s;
}

} // namespace

ChainSpec parse_chain(std::string_view text, const std::string& default_name) {
    if (text.size() > kMaxChainFileBytes)
        throw Error(ErrorKind::Usage, "the chain file is larger than 1 MiB");
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        auto at = util::json_error_at(text, e.byte);
        throw Error(ErrorKind::Usage,
                    "the chain file is not valid JSON at line " + std::to_string(at.line) +
                        ", column " + std::to_string(at.column),
                    at.trailing_comma ? "remove the comma before it: JSON allows none after the "
                                        "last item"
                                      : "a chain is a JSON list of steps");
    }
    ChainSpec chain;
    chain.name = default_name;
    const json* steps = &j;
    if (j.is_object()) {
        for (const auto& [k, v] : j.items())
            if (k != "name" && k != "steps")
                throw Error(ErrorKind::Usage,
                            "the chain file has an unknown field \"" + util::printable(k) + "\"",
                            "a chain is a list of steps, or {\"name\": ..., \"steps\": [...]}");
        if (auto n = j.find("name"); n != j.end()) {
            if (!n->is_string() || n->get_ref<const std::string&>().empty())
                throw Error(ErrorKind::Usage, "the chain's \"name\" must be a string, not empty");
            chain.name = n->get<std::string>();
        }
        auto s = j.find("steps");
        if (s == j.end())
            throw Error(ErrorKind::Usage, "the chain file has no \"steps\"");
        steps = &*s;
    }
    if (!steps->is_array())
        throw Error(ErrorKind::Usage, "the chain's steps must be a JSON list",
                    "a chain is a list of steps, or {\"name\": ..., \"steps\": [...]}");
    if (steps->empty())
        throw Error(ErrorKind::Usage, "the chain has no steps");
    if (steps->size() > kMaxChainSteps)
        throw Error(ErrorKind::Usage, "the chain has " + std::to_string(steps->size()) +
                                          " steps; at most " + std::to_string(kMaxChainSteps));
    for (size_t i = 0; i < steps->size(); ++i)
        chain.steps.push_back(parse_step((*steps)[i], i));
    return chain;
}

std::string render_prompt(const std::string& prompt, const std::string& input,
                          const std::vector<std::string>& answers) {
    std::string out;
    for (size_t i = 0; i < prompt.size();) {
        if (prompt[i] == '{') {
            size_t close = prompt.find('}', i);
            if (close != std::string::npos) {
                std::string_view token(prompt.data() + i + 1, close - i - 1);
                if (token == "input") {
                    out += input;
                    i = close + 1;
                    continue;
                }
                if (token.substr(0, 5) == "step.") {
                    size_t n = 0;
                    auto [p, ec] =
                        std::from_chars(token.data() + 5, token.data() + token.size(), n);
                    if (ec == std::errc() && p == token.data() + token.size() && n >= 1 &&
                        n <= answers.size()) {
                        out += answers[n - 1];
                        i = close + 1;
                        continue;
                    }
                }
            }
        }
        out += prompt[i++];
    }
    return out;
}

ChainPlanning plan_chain(provider::Provider& server, registry::Registry& reg,
                         const config::Config& cfg, const BudgetFn& budget,
                         const ChainSpec& chain) {
    auto now = util::now();
    auto loaded = server.loaded();
    auto state = reg.observe(loaded, now);
    ChainPlanning out;
    out.budget = budget(loaded);
    // Each (model, num_ctx) once, in order of first use.
    std::vector<std::pair<std::string, int>> keys;
    for (const auto& s : chain.steps) {
        std::pair<std::string, int> key{server.canonical(s.model), s.num_ctx};
        auto it = std::find(keys.begin(), keys.end(), key);
        if (it == keys.end()) {
            out.input.steps.push_back(keys.size());
            keys.push_back(key);
        } else {
            out.input.steps.push_back(static_cast<size_t>(it - keys.begin()));
        }
    }
    // The model at a context (0: its own setting), as the plan sees it.
    auto describe = [&](const std::string& name, int num_ctx) {
        config::Config with = cfg; // the step's num_ctx, as load --ctx gives one
        if (num_ctx > 0)
            set_num_ctx(with, server.kind(), name, num_ctx);
        auto w = describe_wanted(server, {name}, loaded, state, with, now).front();
        // Loaded at another context, it is loaded again (Ollama reloads it).
        if (w.loaded && num_ctx > 0)
            for (const auto& m : loaded)
                if (m.name == w.model && m.context_length > 0 && m.context_length != num_ctx)
                    w.loaded = false;
        const auto* rec = store::find_model(state, w.model);
        policy::ChainModel cm;
        cm.name = w.model;
        cm.bytes = w.estimate.bytes;
        cm.load_seconds = rec && rec->last_load && rec->last_load->seconds > 0
                              ? rec->last_load->seconds
                              : policy::default_load_seconds(w.estimate.bytes);
        cm.loaded = w.loaded;
        return std::make_pair(std::move(w), cm);
    };
    for (const auto& [name, num_ctx] : keys) {
        auto [w, cm] = describe(name, std::max(num_ctx, 0));
        out.input.models.push_back(cm);
        out.models.push_back(std::move(w));
        out.num_ctx.push_back(std::max(num_ctx, 0));
        out.num_ctx_why.emplace_back();
    }
    // Pinned models outside the chain hold; the others make room by the
    // policy when a step needs it.
    auto pinned = pinned_names(state, cfg, server.kind());
    for (const auto& m : loaded) {
        bool in_chain =
            std::any_of(keys.begin(), keys.end(), [&](const auto& k) { return k.first == m.name; });
        if (!in_chain && pinned.count(m.name)) {
            out.pinned_outside.push_back(m.name);
            out.pinned_bytes += m.size;
        }
    }
    uint64_t total = out.budget.budget.bytes;
    out.input.capacity = total > out.pinned_bytes ? total - out.pinned_bytes : 0;
    out.plan = policy::plan_chain(out.input);

    // "max": the largest context that fits every step of the model beside
    // what the first plan holds there.
    bool chosen = false;
    std::optional<std::vector<provider::InstalledModel>> installed; // listed once, if needed
    for (size_t k = 0; k < keys.size() && out.plan.feasible; ++k) {
        if (keys[k].second != kNumCtxMax)
            continue;
        const std::string& name = keys[k].first;
        uint64_t room = out.input.capacity;
        for (size_t t = 0; t < out.plan.steps.size(); ++t)
            if (out.input.steps[t] == k) {
                uint64_t others = out.plan.steps[t].bytes - out.input.models[k].bytes;
                room = std::min(room, out.input.capacity - std::min(others, out.input.capacity));
            }
        auto info = server.show(name);
        int64_t own = static_cast<int64_t>(
            architecture_number(info.model_info, "context_length").value_or(0));
        if (own <= 0)
            throw Error(ErrorKind::Failed,
                        "the server does not say the longest context " + name + " takes",
                        "give the step a number: \"num_ctx\": 8192");
        if (!installed)
            installed = server.installed();
        uint64_t file_size = 0;
        for (const auto& m : *installed)
            if (m.name == name)
                file_size = m.size;
        std::string why;
        int n =
            largest_context(store::find_model(state, name), file_size, info.model_info, own, room,
                            util::format_size(room) + " beside what the chain keeps", why);
        auto [w, cm] = describe(name, n);
        out.input.models[k] = cm;
        out.models[k] = std::move(w);
        out.num_ctx[k] = n;
        out.num_ctx_why[k] = "num_ctx max: " + std::to_string(n) + ", " + why;
        chosen = true;
    }
    if (chosen)
        out.plan = policy::plan_chain(out.input);
    return out;
}

} // namespace core::operations

#include "operations/planning.hpp"

#include "error.hpp"
#include "policy/replay.hpp"
#include "provider/ollama_api.hpp"
#include "util/size.hpp"

#include <algorithm>

namespace core::operations {

using json = nlohmann::json;

namespace {

// A whole number in model_info (from the server: hostile), at most 10^7
// (layers, heads, embedding widths are far smaller); per-layer values: the
// largest. Anything else is unknown.
std::optional<uint64_t> info_number(const json& info, const std::string& key) {
    constexpr uint64_t kMax = 10000000;
    auto one = [](const json& v) -> std::optional<uint64_t> {
        if (v.is_number_unsigned() && v.get<uint64_t>() <= kMax)
            return v.get<uint64_t>();
        if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= int64_t(kMax))
            return static_cast<uint64_t>(v.get<int64_t>());
        return std::nullopt;
    };
    auto it = info.find(key);
    if (it == info.end())
        return std::nullopt;
    if (it->is_array()) {
        std::optional<uint64_t> best;
        for (const auto& v : *it)
            if (auto n = one(v))
                best = std::max(best.value_or(0), *n);
        return best;
    }
    return one(*it);
}

} // namespace

Effective effective_settings(const std::string& model, const std::string& kind,
                             const config::Config& cfg, const store::State& state) {
    return effective_settings(model, kind, cfg, store::find_model(state, model));
}

std::set<std::string> pinned_names(const store::State& state, const config::Config& cfg,
                                   const std::string& kind) {
    std::set<std::string> out;
    for (const auto& [name, r] : state.models)
        if (r.pinned.value_or(false))
            out.insert(name);
    for (const auto& [key, m] : cfg.models)
        if (m.pin.value_or(false))
            out.insert(provider::canonical_name(kind, key));
    return out;
}

double epoch_seconds(util::Timestamp t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::optional<uint64_t> architecture_number(const json& info, const std::string& key) {
    if (!info.is_object())
        return std::nullopt;
    std::string arch = info.value("general.architecture", "");
    if (arch.empty())
        return std::nullopt;
    return info_number(info, arch + "." + key);
}

uint64_t kv_cache_bytes(const json& info, int num_ctx) {
    if (!info.is_object() || num_ctx <= 0)
        return 0;
    std::string arch = info.value("general.architecture", "");
    if (arch.empty())
        return 0;
    auto blocks = info_number(info, arch + ".block_count");
    auto heads = info_number(info, arch + ".attention.head_count");
    auto kv_heads = info_number(info, arch + ".attention.head_count_kv");
    auto embd = info_number(info, arch + ".embedding_length");
    if (!blocks || !heads || !*heads || !embd)
        return 0;
    uint64_t kv = kv_heads.value_or(*heads);
    // In double, clamped: the factors are bounded, their product need not be.
    double bytes = 2.0 * double(*blocks) * double(kv) * double(*embd / *heads) * num_ctx * 2;
    return bytes >= 1e15 ? uint64_t(1e15) : static_cast<uint64_t>(bytes);
}

Estimate estimate_memory(const store::ModelRecord* record, uint64_t file_size,
                         const json& model_info, int num_ctx) {
    Estimate e;
    if (record) {
        auto it = record->observed.find(num_ctx);
        if (it != record->observed.end() && it->second.size > 0) {
            e.bytes = it->second.size;
            e.observed = true;
            e.source = "observed after a load at num_ctx " + std::to_string(num_ctx) + " on " +
                       util::format_rfc3339(it->second.at).substr(0, 10);
            return e;
        }
    }
    uint64_t kv = kv_cache_bytes(model_info, num_ctx);
    e.bytes = file_size + kv;
    e.source =
        "estimated: file " + util::format_size(file_size) +
        (kv ? " + KV cache " + util::format_size(kv) + " at num_ctx " + std::to_string(num_ctx)
            : std::string(" (no model_info for the KV cache)"));
    return e;
}

const config::ModelSettings* config_entry(const config::Config& cfg, const std::string& kind,
                                          const std::string& model) {
    if (auto it = cfg.models.find(model); it != cfg.models.end())
        return &it->second;
    for (const auto& [key, settings] : cfg.models)
        if (provider::canonical_name(kind, key) == model)
            return &settings;
    return nullptr;
}

Effective effective_settings(const std::string& model, const std::string& kind,
                             const config::Config& cfg, const store::ModelRecord* record) {
    Effective e;
    e.keep_alive = cfg.keep_alive;
    e.idle_timeout = cfg.idle_timeout;
    e.num_ctx = cfg.num_ctx;
    e.keep_versions = cfg.keep_versions;
    if (const auto* entry = config_entry(cfg, kind, model)) {
        const auto& m = *entry;
        if (m.pin) {
            e.pinned = *m.pin;
            e.pin_source = config::Source::File;
        }
        if (m.priority) {
            e.priority = *m.priority;
            e.priority_source = config::Source::File;
        }
        if (m.keep_alive)
            e.keep_alive = m.keep_alive;
        if (m.idle_timeout)
            e.idle_timeout = *m.idle_timeout;
        if (m.num_ctx) {
            e.num_ctx = *m.num_ctx;
            e.num_ctx_own = true;
        }
        if (m.keep_versions)
            e.keep_versions = *m.keep_versions;
        e.endpoint = m.endpoint;
    }
    if (record && record->pinned.value_or(false)) {
        e.pinned = true;
        e.pin_source = config::Source::Store;
    }
    if (record && record->priority) {
        e.priority = *record->priority;
        e.priority_source = config::Source::Store;
    }
    return e;
}

void set_num_ctx(config::Config& cfg, const std::string& kind, const std::string& model,
                 int num_ctx) {
    const auto* entry = config_entry(cfg, kind, model);
    auto settings = entry ? *entry : config::ModelSettings{};
    settings.num_ctx = num_ctx;
    cfg.models[model] = settings;
}

int largest_context(const store::ModelRecord* record, uint64_t file_size,
                    const nlohmann::json& model_info, int64_t own, uint64_t room,
                    const std::string& room_name, std::string& why) {
    auto fits = [&](int64_t n) {
        return estimate_memory(record, file_size, model_info, static_cast<int>(n)).bytes <= room;
    };
    int64_t lo = std::min<int64_t>(2048, own), hi = own;
    if (fits(hi)) {
        why = "the model's longest, " + std::to_string(hi);
        return static_cast<int>(hi);
    }
    // The largest multiple of 1024 in [lo, hi) that fits.
    int64_t best = lo;
    for (int64_t a = lo / 1024, b = (hi - 1) / 1024; a <= b;) {
        int64_t mid = (a + b) / 2;
        if (fits(std::max<int64_t>(mid * 1024, lo))) {
            best = std::max<int64_t>(mid * 1024, lo);
            a = mid + 1;
        } else {
            b = mid - 1;
        }
    }
    why = "the longest that fits " + room_name + " (" + std::to_string(own) + " would not)";
    return static_cast<int>(best);
}

std::vector<policy::Resident> residents(const std::vector<provider::LoadedModel>& loaded,
                                        const store::State& state, const config::Config& cfg,
                                        const std::string& kind, util::Timestamp now) {
    std::vector<policy::Resident> out;
    for (const auto& m : loaded) {
        const store::ModelRecord* rec = store::find_model(state, m.name);
        Effective eff = effective_settings(m.name, kind, cfg, rec);
        policy::Resident r;
        r.name = m.name; // the server's own name: canonical
        r.bytes = m.size;
        r.reload_seconds = rec && rec->last_load && rec->last_load->seconds > 0
                               ? rec->last_load->seconds
                               : policy::default_load_seconds(m.size);
        r.pinned = eff.pinned;
        r.priority = eff.priority;
        if (rec && rec->uses_at) {
            r.uses = {rec->uses, epoch_seconds(*rec->uses_at)};
        }
        util::Timestamp last{};
        if (rec) {
            last = std::max(last, rec->first_seen);
            if (rec->last_used)
                last = std::max(last, *rec->last_used);
            if (rec->last_load)
                last = std::max(last, rec->last_load->at);
        }
        if (provider::classify_expiry(m.expires_at, now) == provider::Expiry::At) {
            double keep = rec && rec->keep_alive_seconds && *rec->keep_alive_seconds >= 0
                              ? *rec->keep_alive_seconds
                              : provider::ollama::kDefaultKeepAlive.count();
            last = std::max(last,
                            *m.expires_at - std::chrono::duration_cast<util::Timestamp::duration>(
                                                std::chrono::duration<double>(keep)));
        }
        r.last_use = std::min(epoch_seconds(last), epoch_seconds(now));
        out.push_back(r);
    }
    return out;
}

std::vector<Wanted> describe_wanted(provider::Provider& server,
                                    const std::vector<std::string>& models,
                                    const std::vector<provider::LoadedModel>& loaded,
                                    const store::State& state, const config::Config& cfg,
                                    util::Timestamp now, std::vector<Missing>* missing) {
    std::vector<Wanted> out;
    std::vector<provider::InstalledModel> installed;
    for (const auto& name : models) {
        Wanted w;
        w.model = server.canonical(name);
        const store::ModelRecord* r = store::find_model(state, w.model);
        w.settings = effective_settings(w.model, server.kind(), cfg, r);
        for (const auto& m : loaded)
            if (server.same_model(m.name, name) &&
                provider::classify_expiry(m.expires_at, now) != provider::Expiry::Stopping) {
                w.loaded = true;
                w.estimate = {m.size, true, "loaded now"};
            }
        if (!w.loaded) {
            if (installed.empty())
                installed = server.installed();
            auto it = std::find_if(installed.begin(), installed.end(),
                                   [&](const auto& m) { return server.same_model(m.name, name); });
            if (it == installed.end()) {
                Error e(ErrorKind::NotFound,
                        "model '" + name + "' is not installed on the server at " +
                            server.address(),
                        server.kind() == "lmstudio" ? "download it first: lms get " + name
                                                    : "pull it first: modelctl pull " + name);
                if (!missing)
                    throw e;
                missing->push_back({name, e});
                continue;
            }
            auto info = server.show(name);
            w.estimate = estimate_memory(r, it->size, info.model_info, w.settings.num_ctx);
        }
        out.push_back(std::move(w));
    }
    return out;
}

} // namespace core::operations

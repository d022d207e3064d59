#include "registry/registry.hpp"

#include "error.hpp"
#include "provider/ollama_api.hpp"
#include "util/interrupt.hpp"
#include "versions/versions.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

namespace core::registry {

namespace {

double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

store::Event event(const char* type, const std::string& model, const std::string& server,
                   util::Timestamp at, double seconds, uint64_t size, uint64_t size_vram) {
    store::Event e;
    e.type = type;
    e.model = model;
    e.server = server;
    e.at = at;
    e.seconds = seconds;
    e.size = size;
    e.size_vram = size_vram;
    return e;
}

} // namespace

bool observe_expiry(store::ModelRecord& r, const provider::LoadedModel& m, util::Timestamp now) {
    if (!m.expires_at || provider::classify_expiry(m.expires_at, now) != provider::Expiry::At)
        return false;
    bool moved = r.seen_expires_at && *m.expires_at > *r.seen_expires_at + std::chrono::seconds(1);
    bool changed = !r.seen_expires_at || *r.seen_expires_at != *m.expires_at;
    r.seen_expires_at = m.expires_at;
    if (moved) {
        // Ollama sets expires_at = end of the last request + keep_alive
        // (server/sched.go), so that is when it was last used.
        double keep = r.keep_alive_seconds && *r.keep_alive_seconds >= 0
                          ? *r.keep_alive_seconds
                          : provider::ollama::kDefaultKeepAlive.count();
        auto used = *m.expires_at - std::chrono::duration_cast<util::Timestamp::duration>(
                                        std::chrono::duration<double>(keep));
        store::note_use(r, std::min(used, now));
    }
    return changed;
}

store::State Registry::observe(const std::vector<provider::LoadedModel>& loaded,
                               util::Timestamp now) {
    auto st = store_.read();
    bool any = false;
    for (const auto& m : loaded) {
        auto it = st.models.find(provider_.canonical(m.name));
        store::ModelRecord r = it != st.models.end() ? it->second : store::ModelRecord{};
        any = observe_expiry(r, m, now) || any;
    }
    if (!any)
        return st; // nothing new: no lock, no write
    return store_.update([&](store::State& s) {
        for (const auto& m : loaded)
            observe_expiry(store::touch(s, provider_.canonical(m.name), now), m, now);
    });
}

void record_uses(store::Store& store, const std::vector<store::Event>& uses) {
    store.append(uses);
}

UseOutcome Registry::generate(const provider::GenerateRequest& request, const std::string& task,
                              const std::function<void(std::string_view)>& on_text) {
    store_.check_writable(); // refuse before the server is touched
    UseOutcome out;
    store::Event e;
    e.type = "use";
    e.model = provider_.canonical(request.model);
    e.server = provider_.address();
    e.task = task;
    auto t0 = std::chrono::steady_clock::now();
    try {
        out.metrics = provider_.generate(request, [&](std::string_view text) {
            if (!out.ttft_ms && !text.empty())
                out.ttft_ms = since(t0) * 1000;
            on_text(text);
        });
    } catch (const Error& err) {
        // Not the model's failure: no use happened, or the user stopped it.
        if (err.kind() == ErrorKind::Unreachable || err.kind() == ErrorKind::Interrupted)
            throw;
        e.failed = true;
        e.at = util::now();
        e.latency_ms = since(t0) * 1000;
        e.ttft_ms = out.ttft_ms;
        store_.append({e});
        throw;
    }
    out.latency_ms = since(t0) * 1000;
    util::CleanupScope record; // the use happened: record it even if asked to stop now
    const auto& m = out.metrics;
    e.at = util::now();
    e.seconds = out.latency_ms / 1000;
    e.latency_ms = out.latency_ms;
    e.ttft_ms = out.ttft_ms;
    e.tokens_in = static_cast<uint64_t>(std::max<int64_t>(0, m.prompt_eval_count));
    e.tokens_out = static_cast<uint64_t>(std::max<int64_t>(0, m.eval_count));
    e.eval_seconds = static_cast<double>(m.eval_duration) / 1e9;
    auto after = find_loaded(request.model);
    auto now = util::now();
    store_.update(
        [&](store::State& st) { // the store folds the use itself
            if (after)
                store::touch(st, e.model, now).seen_expires_at = after->expires_at;
        },
        {e});
    return out;
}

void Registry::set_pin(const std::string& model, bool pinned) {
    auto now = util::now();
    store_.update([&](store::State& st) {
        auto& r = store::touch(st, provider_.canonical(model), now);
        if (pinned)
            r.pinned = true;
        else
            r.pinned.reset();
    });
}

void Registry::set_priority(const std::string& model, int priority) {
    auto now = util::now();
    store_.update([&](store::State& st) {
        store::touch(st, provider_.canonical(model), now).priority = priority;
    });
}

BenchRecord Registry::record_bench(const std::string& model, bench::Result result,
                                   double threshold) {
    BenchRecord out;
    auto now = util::now();
    store_.update([&](store::State& st) {
        out = {};
        auto& r = store::touch(st, provider_.canonical(model), now);
        if (const auto* p = bench::previous(r.bench, result.settings)) {
            out.previous = *p;
            out.changes = bench::compare(
                *p, result, threshold > 0 ? threshold : std::numeric_limits<double>::infinity());
        }
        for (const auto& c : out.changes)
            out.regressed = out.regressed || c.regressed;
        result.regressed = out.regressed;
        r.bench.push_back(result);
        if (r.bench.size() > store::kBenchKeep)
            r.bench.erase(r.bench.begin(),
                          r.bench.begin() + static_cast<long>(r.bench.size() - store::kBenchKeep));
    });
    return out;
}

std::optional<provider::LoadedModel> Registry::find_loaded(const std::string& model) {
    for (auto& m : provider_.loaded())
        if (provider_.same_model(m.name, model))
            return m;
    return std::nullopt;
}

LoadOutcome Registry::load(const std::string& model, const provider::LoadSettings& settings,
                           bool as_use) {
    LoadOutcome out;
    out.model = provider_.canonical(model);
    // Read the store first: an unusable store refuses the command before the
    // server is touched, so a refused load changes nothing anywhere.
    auto known = store_.check_writable().models; // refuse before the server is touched
    auto before = find_loaded(model);
    out.was_loaded = before && provider::classify_expiry(before->expires_at, util::now()) !=
                                   provider::Expiry::Stopping;
    auto t0 = std::chrono::steady_clock::now();
    try {
        provider_.load(model, settings);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Interrupted || out.was_loaded)
            throw;
        // Ctrl-C mid-load: the server may go on loading what nobody waits
        // for now. Unload it, so that memory is as it was.
        util::CleanupScope cleanup;
        try {
            provider_.unload(model);
        } catch (const Error&) {
            throw Error(ErrorKind::Interrupted,
                        "interrupted while loading '" + out.model +
                            "'; it may still be loading on the server",
                        "modelctl unload " + out.model);
        }
        throw Error(ErrorKind::Interrupted,
                    "interrupted while loading '" + out.model + "'; it was unloaded again");
    }
    out.seconds = since(t0);
    // The load happened: record it whole, even if the user asks to stop now.
    util::CleanupScope record;
    out.observed = find_loaded(model);

    // Capabilities come from /api/show; ask once per model digest.
    std::optional<provider::ModelInfo> info;
    auto rec = known.find(out.model);
    std::string digest = out.observed ? out.observed->digest : "";
    if (rec == known.end() || rec->second.digest != digest || rec->second.capabilities.empty()) {
        try {
            info = provider_.show(model);
        } catch (const Error& e) {
            // Capabilities are a nicety: the load itself succeeded, so a
            // server that cannot describe the model does not fail it.
            if (e.kind() == ErrorKind::Unreachable)
                throw;
        }
    }

    auto now = util::now();
    std::vector<store::Event> events;
    if (!out.was_loaded)
        events.push_back(event("load", out.model, provider_.address(), now, out.seconds,
                               out.observed ? out.observed->size : 0,
                               out.observed ? out.observed->size_vram : 0));
    store_.update(
        [&](store::State& st) {
            auto& r = store::touch(st, out.model, now);
            if (as_use)
                store::note_use(r, now);
            if (settings.keep_alive)
                r.keep_alive_seconds = settings.keep_alive->json_seconds();
            else
                r.keep_alive_seconds.reset(); // the server's default
            if (out.observed) {
                r.digest = out.observed->digest;
                r.details = out.observed->details;
                r.seen_expires_at = out.observed->expires_at;
                r.observed[out.observed->context_length] = {out.observed->size,
                                                            out.observed->size_vram, now};
            }
            if (info) {
                r.capabilities = info->capabilities;
                if (!info->details.family.empty())
                    r.details = info->details;
            }
            if (!out.was_loaded) {
                r.loads += 1;
                r.load_seconds_total += out.seconds;
                store::LoadRecord lr;
                lr.at = now;
                lr.seconds = out.seconds;
                if (out.observed) {
                    lr.size = out.observed->size;
                    lr.size_vram = out.observed->size_vram;
                    lr.context_length = out.observed->context_length;
                }
                r.last_load = lr;
            }
        },
        events);
    return out;
}

UnloadOutcome Registry::unload(const std::string& model) {
    UnloadOutcome out;
    out.model = provider_.canonical(model);
    store_.check_writable(); // refuse before touching the server, as load() does
    auto before = find_loaded(model);
    auto t0 = std::chrono::steady_clock::now();
    provider_.unload(model); // also surfaces "not installed" for a typo
    out.seconds = since(t0);
    if (!before)
        return out;
    out.was_loaded = true;
    out.freed = before->size;
    out.freed_vram = before->size_vram;
    auto now = util::now();
    store_.update(
        [&](store::State& st) {
            auto& r = store::touch(st, out.model, now);
            r.digest = before->digest;
            r.unloads += 1;
            r.last_unload = now;
            r.seen_expires_at.reset();
        },
        {event("unload", out.model, provider_.address(), now, out.seconds, out.freed,
               out.freed_vram)});
    return out;
}

std::vector<UnloadOutcome> Registry::unload_all() {
    std::vector<UnloadOutcome> out;
    for (const auto& m : provider_.loaded())
        out.push_back(unload(m.name));
    return out;
}

Status Registry::status(bool installed) {
    Status s;
    s.loaded = provider_.loaded();
    s.now = util::now();
    if (!installed) {
        s.state = observe(s.loaded, s.now);
        return s;
    }
    s.installed = provider_.installed();
    s.version = provider_.version();
    s.state = store_.update([&](store::State& st) {
        for (const auto& m : s.installed) {
            auto& r = store::touch(st, m.name, s.now);
            // A new digest under a name is a new version of it, however it came.
            if (!m.digest.empty() && !versions::looks_like_version_tag(m.name))
                versions::note_current(r, m.digest, m.size, m.modified_at.value_or(s.now));
            r.digest = m.digest;
            r.size = m.size;
            if (!m.details.family.empty())
                r.details = m.details;
        }
        for (const auto& m : s.loaded)
            observe_expiry(store::touch(st, m.name, s.now), m, s.now);
    });
    return s;
}

Status Registry::peek(bool installed) {
    Status s;
    s.loaded = provider_.loaded();
    s.now = util::now();
    if (installed) {
        s.installed = provider_.installed();
        s.version = provider_.version();
    }
    s.state = store_.read();
    return s;
}

} // namespace core::registry

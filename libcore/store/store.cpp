#include "store/store.hpp"

#include "error.hpp"
#include "provider/ollama_api.hpp"
#include "store/atomicfile.hpp"
#include "store/lockfile.hpp"
#include "util/file.hpp"
#include "util/size.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace core::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Seconds since the epoch up to the year 9999 (what an RFC 3339 time can say).
constexpr double kMaxEpoch = 253402300800.0;

// Counts as one string, "3,0,12": every command reads state.json, and one
// JSON string parses many times faster than as many JSON numbers.
template <class Counts> std::string join_counts(const Counts& counts) {
    std::string out;
    char buf[24];
    for (auto n : counts) {
        if (!out.empty())
            out += ',';
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
        out.append(buf, end);
    }
    return out;
}

// Every number read from the store is checked before use: a hand-edited or
// damaged file must never become a huge allocation, a NaN or an undefined
// float-to-int conversion. These throw std::invalid_argument naming the key.
[[noreturn]] void bad_value(const char* key, const json& v) {
    std::string text = v.dump();
    if (text.size() > 40)
        text = text.substr(0, 40) + "...";
    throw std::invalid_argument("'" + std::string(key) + "' is out of range: " + text);
}

double number(const json& j, const char* key, double fallback, double lo, double hi) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return fallback;
    if (!it->is_number())
        bad_value(key, *it);
    double v = it->get<double>();
    if (!std::isfinite(v) || v < lo || v > hi)
        bad_value(key, *it);
    return v;
}

uint64_t count(const json& j, const char* key, uint64_t hi = kMaxCount) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return 0;
    if (!it->is_number_unsigned() || it->get<uint64_t>() > hi)
        bad_value(key, *it);
    return it->get<uint64_t>();
}

int integer(const json& j, const char* key, int fallback, int lo, int hi) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return fallback;
    if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi)
        bad_value(key, *it);
    return static_cast<int>(it->get<int64_t>());
}

std::vector<uint64_t> split_counts(const json& v, size_t max_counts) {
    std::vector<uint64_t> out;
    if (v.is_array()) { // as a JSON array
        if (v.size() > max_counts)
            throw std::invalid_argument("more counts than buckets");
        for (const auto& n : v) {
            if (!n.is_number_unsigned() || n.get<uint64_t>() > kMaxCount)
                bad_value("counts", n);
            out.push_back(n.get<uint64_t>());
        }
        return out;
    }
    const auto& s = v.get_ref<const std::string&>();
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
        uint64_t n = 0;
        auto [next, ec] = std::from_chars(p, end, n);
        if (ec != std::errc() || (next < end && *next != ',') || n > kMaxCount)
            throw std::invalid_argument("bad counts '" + s.substr(0, 40) + "'");
        if (out.size() == max_counts)
            throw std::invalid_argument("more counts than buckets");
        out.push_back(n);
        p = next + 1;
    }
    return out;
}

// A histogram as schema 3 writes it, {"from": i, "counts": "n,n,..."} under
// `key`, or as schema 2 did, {"i": n, ...} under `key` + "_buckets".
void read_histogram(const json& usage, const std::string& key, metrics::Histogram& h) {
    constexpr int top = metrics::Histogram::kMaxBucket;
    if (auto d = usage.find(key); d != usage.end() && d->is_object()) {
        int from = integer(*d, "from", 0, 0, top);
        auto counts = split_counts(d->at("counts"), static_cast<size_t>(top - from + 1));
        for (size_t k = 0; k < counts.size(); ++k)
            if (counts[k])
                h.set_bucket(from + static_cast<int>(k), counts[k]);
    } else if (auto o = usage.find(key + "_buckets"); o != usage.end() && o->is_object()) {
        for (const auto& [i, n] : o->items()) {
            int index = 0;
            auto [end, ec] = std::from_chars(i.data(), i.data() + i.size(), index);
            if (ec != std::errc() || end != i.data() + i.size() || index < 0 || index > top)
                throw std::invalid_argument("bad histogram bucket '" + i.substr(0, 40) + "'");
            if (!n.is_number_unsigned() || n.get<uint64_t>() > kMaxCount)
                bad_value("buckets", n);
            h.set_bucket(index, n.get<uint64_t>());
        }
    }
}

json details_json(const provider::ModelDetails& d) {
    return {{"parent_model", d.parent_model},
            {"format", d.format},
            {"family", d.family},
            {"families", d.families},
            {"parameter_size", d.parameter_size},
            {"quantization_level", d.quantization_level}};
}

provider::ModelDetails details_from(const json& j) {
    provider::ModelDetails d;
    if (!j.is_object())
        return d;
    d.parent_model = j.value("parent_model", "");
    d.format = j.value("format", "");
    d.family = j.value("family", "");
    d.families = j.value("families", std::vector<std::string>{});
    d.parameter_size = j.value("parameter_size", "");
    d.quantization_level = j.value("quantization_level", "");
    return d;
}

json time_json(const std::optional<util::Timestamp>& t) {
    return t ? json(util::format_rfc3339(*t)) : json(nullptr);
}

std::optional<util::Timestamp> time_from(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
        return std::nullopt;
    return util::parse_rfc3339(it->get<std::string>());
}

void make_private_dirs(const fs::path& dir) {
    if (fs::is_directory(dir))
        return;
    if (!dir.parent_path().empty() && dir.parent_path() != dir)
        make_private_dirs(dir.parent_path());
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error(ErrorKind::Store,
                    "cannot create directory " + dir.string() + ": " + std::strerror(errno));
}

} // namespace

fs::path default_dir(const Environment& env) {
    if (auto home = env.get_nonempty("MODELCTL_HOME"))
        return fs::path(*home);
    // XDG Base Directory spec: relative paths are invalid and must be ignored.
    if (auto xdg = env.get_nonempty("XDG_STATE_HOME"); xdg && fs::path(*xdg).is_absolute())
        return fs::path(*xdg) / "modelctl";
    if (auto home = env.get_nonempty("HOME"))
        return fs::path(*home) / ".local" / "state" / "modelctl";
    throw Error(ErrorKind::Store, "cannot find a place for the store: HOME is not set",
                "set MODELCTL_HOME or XDG_STATE_HOME");
}

json spread_json(const bench::Spread& s) {
    return json::array({s.min, s.median, s.max});
}

bench::Spread spread_from(const json& j, const char* key) {
    auto v = j.at(key);
    if (!v.is_array() || v.size() != 3)
        throw std::invalid_argument(std::string("bench ") + key + " needs [min, median, max]");
    for (const auto& x : v)
        if (!x.is_number() || !std::isfinite(x.get<double>()) || x.get<double>() < 0 ||
            x.get<double>() > 1e15)
            bad_value(key, x);
    return {v[0].get<double>(), v[1].get<double>(), v[2].get<double>()};
}

json bench_json(const bench::Result& b) {
    const auto& st = b.settings;
    return {{"at", util::format_rfc3339(b.at)},
            {"digest", b.digest},
            {"settings",
             {{"prompt_hash", st.prompt_hash},
              {"prompt_chars", st.prompt_chars},
              {"num_predict", st.num_predict},
              {"num_ctx", st.num_ctx},
              {"runs", st.runs},
              {"cold", st.cold}}},
            {"load_seconds", b.load_seconds ? json(*b.load_seconds) : json(nullptr)},
            {"size", b.size},
            {"size_vram", b.size_vram},
            {"ttft_ms", spread_json(b.ttft_ms)},
            {"total_ms", spread_json(b.total_ms)},
            {"prompt_tokens_per_second", spread_json(b.prompt_tokens_per_second)},
            {"tokens_per_second", spread_json(b.tokens_per_second)},
            {"ms_per_token", spread_json(b.ms_per_token)},
            {"tokens", b.tokens},
            {"regressed", b.regressed}};
}

bench::Result bench_from(const json& j) {
    bench::Result b;
    b.at = time_from(j, "at").value_or(util::Timestamp{});
    b.digest = j.value("digest", "");
    const auto& st = j.at("settings");
    b.settings.prompt_hash = st.value("prompt_hash", "");
    b.settings.prompt_chars = count(st, "prompt_chars");
    b.settings.num_predict = integer(st, "num_predict", 0, -2, kMaxContext);
    b.settings.num_ctx = integer(st, "num_ctx", 0, 0, kMaxContext);
    b.settings.runs = integer(st, "runs", 0, 0, 1000000);
    b.settings.cold = st.value("cold", false);
    if (auto l = j.find("load_seconds"); l != j.end() && l->is_number())
        b.load_seconds = number(j, "load_seconds", 0, 0, kMaxSeconds);
    b.size = count(j, "size");
    b.size_vram = count(j, "size_vram");
    b.ttft_ms = spread_from(j, "ttft_ms");
    b.total_ms = spread_from(j, "total_ms");
    b.prompt_tokens_per_second = spread_from(j, "prompt_tokens_per_second");
    b.tokens_per_second = spread_from(j, "tokens_per_second");
    if (j.contains("ms_per_token")) // added after store/v1's first release: optional
        b.ms_per_token = spread_from(j, "ms_per_token");
    b.tokens = number(j, "tokens", 0, 0, double(kMaxCount));
    b.regressed = j.value("regressed", false);
    return b;
}

namespace {

json models_json(const std::map<std::string, ModelRecord>& records) {
    json models = json::object();
    for (const auto& [name, m] : records) {
        json r = {{"digest", m.digest},
                  {"size", m.size},
                  {"details", details_json(m.details)},
                  {"capabilities", m.capabilities},
                  {"first_seen", util::format_rfc3339(m.first_seen)},
                  {"last_seen", util::format_rfc3339(m.last_seen)},
                  {"last_used", time_json(m.last_used)},
                  {"last_unload", time_json(m.last_unload)},
                  {"loads", m.loads},
                  {"load_seconds_total", m.load_seconds_total},
                  {"unloads", m.unloads},
                  {"last_load", nullptr}};
        r["pinned"] = m.pinned ? json(*m.pinned) : json(nullptr);
        r["priority"] = m.priority ? json(*m.priority) : json(nullptr);
        r["uses"] = {{"count", m.uses}, {"at", time_json(m.uses_at)}};
        r["seen_expires_at"] = time_json(m.seen_expires_at);
        r["keep_alive_seconds"] =
            m.keep_alive_seconds ? json(*m.keep_alive_seconds) : json(nullptr);
        json observed = json::object();
        for (const auto& [ctx, o] : m.observed)
            observed[std::to_string(ctx)] = {
                {"size", o.size}, {"size_vram", o.size_vram}, {"at", util::format_rfc3339(o.at)}};
        r["observed"] = std::move(observed);
        const auto& u = m.usage;
        // {"from": i, "counts": "n_i,n_i+1,..."}: bucket indexes run together.
        auto hist = [](const metrics::Histogram& h) {
            const auto& b = h.buckets();
            if (b.empty())
                return json{{"from", 0}, {"counts", ""}};
            int from = b.begin()->first;
            std::vector<uint64_t> counts(static_cast<size_t>(b.rbegin()->first - from + 1), 0);
            for (const auto& [i, n] : b)
                counts[static_cast<size_t>(i - from)] = n;
            return json{{"from", from}, {"counts", join_counts(counts)}};
        };
        if (u.uses > 0)
            r["usage"] = {{"uses", u.uses},
                          {"failures", u.failures},
                          {"latency_ms", hist(u.latency)},
                          {"ttft_ms", hist(u.ttft)},
                          {"tokens_in", u.tokens_in},
                          {"tokens_out", u.tokens_out},
                          {"timed_tokens_out", u.timed_tokens_out},
                          {"eval_seconds", u.eval_seconds},
                          {"first_use", u.first_use ? json(*u.first_use) : json(nullptr)},
                          {"last_use", u.last_use ? json(*u.last_use) : json(nullptr)},
                          {"hour_of_week", join_counts(u.hour_of_week)}};
        if (m.last_load)
            r["last_load"] = {{"at", util::format_rfc3339(m.last_load->at)},
                              {"seconds", m.last_load->seconds},
                              {"size", m.last_load->size},
                              {"size_vram", m.last_load->size_vram},
                              {"context_length", m.last_load->context_length}};
        if (!m.bench.empty()) {
            json results = json::array();
            for (const auto& b : m.bench)
                results.push_back(bench_json(b));
            r["bench"] = std::move(results);
        }
        if (!m.versions.empty()) {
            json versions = json::array();
            for (const auto& v : m.versions)
                versions.push_back({{"digest", v.digest},
                                    {"size", v.size},
                                    {"pulled_at", util::format_rfc3339(v.pulled_at)},
                                    {"tag", v.tag}});
            r["versions"] = std::move(versions);
        }
        models[name] = std::move(r);
    }
    return models;
}

} // namespace

ModelRecord& touch(State& state, const std::string& name, util::Timestamp now) {
    auto [it, inserted] = state.models.try_emplace(name);
    if (inserted)
        it->second.first_seen = now;
    it->second.last_seen = now;
    return it->second;
}

json to_json(const State& s) {
    json endpoints = json::object();
    auto section = [&s](const std::string& name,
                        const std::map<std::string, ModelRecord>& records) {
        json e = {{"models", models_json(records)}};
        if (auto u = s.urls.find(name); u != s.urls.end() && !u->second.empty())
            e["url"] = u->second;
        if (auto f = s.formerly.find(name); f != s.formerly.end() && !f->second.empty())
            e["formerly"] = f->second;
        return e;
    };
    for (const auto& [name, records] : s.other_endpoints)
        if (!records.empty())
            endpoints[name] = section(name, records);
    if (!s.models.empty())
        endpoints[s.endpoint] = section(s.endpoint, s.models);
    json j = {{"schema_version", s.schema_version}, {"endpoints", std::move(endpoints)}};
    if (s.log)
        j["log"] = {{"dev", s.log->dev}, {"ino", s.log->ino}, {"offset", s.log->offset}};
    return j;
}

namespace {

std::map<std::string, ModelRecord> models_from(const json& models) {
    std::map<std::string, ModelRecord> out;
    try {
        for (const auto& [name, r] : models.items()) {
            ModelRecord m;
            m.digest = r.value("digest", "");
            m.size = count(r, "size");
            m.details = details_from(r.value("details", json::object()));
            m.capabilities = r.value("capabilities", std::vector<std::string>{});
            m.first_seen = time_from(r, "first_seen").value_or(util::Timestamp{});
            m.last_seen = time_from(r, "last_seen").value_or(m.first_seen);
            m.last_used = time_from(r, "last_used");
            m.last_unload = time_from(r, "last_unload");
            m.loads = integer(r, "loads", 0, 0, INT32_MAX);
            m.load_seconds_total = number(r, "load_seconds_total", 0, 0, 1e15);
            m.unloads = integer(r, "unloads", 0, 0, INT32_MAX);
            if (auto l = r.find("last_load"); l != r.end() && l->is_object()) {
                LoadRecord lr;
                lr.at = time_from(*l, "at").value_or(util::Timestamp{});
                lr.seconds = number(*l, "seconds", 0, 0, kMaxSeconds);
                lr.size = count(*l, "size");
                lr.size_vram = count(*l, "size_vram");
                lr.context_length = integer(*l, "context_length", 0, 0, kMaxContext);
                m.last_load = lr;
            }
            if (auto p = r.find("pinned"); p != r.end() && p->is_boolean())
                m.pinned = p->get<bool>();
            if (auto p = r.find("priority"); p != r.end() && !p->is_null())
                m.priority = integer(r, "priority", 5, 0, 9);
            if (auto u = r.find("uses"); u != r.end() && u->is_object()) {
                m.uses = number(*u, "count", 0, 0, double(kMaxCount));
                m.uses_at = time_from(*u, "at");
            }
            m.seen_expires_at = time_from(r, "seen_expires_at");
            if (auto k = r.find("keep_alive_seconds"); k != r.end() && k->is_number())
                m.keep_alive_seconds = number(r, "keep_alive_seconds", 0, -1e15, 1e15);
            if (auto o = r.find("observed"); o != r.end() && o->is_object())
                for (const auto& [ctx, v] : o->items()) {
                    int n = 0;
                    auto [end, ec] = std::from_chars(ctx.data(), ctx.data() + ctx.size(), n);
                    if (ec != std::errc() || end != ctx.data() + ctx.size() || n < 0 ||
                        n > kMaxContext)
                        throw std::invalid_argument("bad context length '" + ctx.substr(0, 40) +
                                                    "' in observed");
                    m.observed[n] = {count(v, "size"), count(v, "size_vram"),
                                     time_from(v, "at").value_or(util::Timestamp{})};
                }
            if (auto u = r.find("usage"); u != r.end() && u->is_object()) {
                auto& s2 = m.usage;
                s2.uses = count(*u, "uses");
                s2.failures = count(*u, "failures", s2.uses);
                read_histogram(*u, "latency_ms", s2.latency);
                read_histogram(*u, "ttft_ms", s2.ttft);
                s2.tokens_in = count(*u, "tokens_in");
                s2.tokens_out = count(*u, "tokens_out");
                s2.timed_tokens_out = count(*u, "timed_tokens_out");
                s2.eval_seconds = number(*u, "eval_seconds", 0, 0, 1e15);
                if (auto l = u->find("first_use"); l != u->end() && l->is_number())
                    s2.first_use = number(*u, "first_use", 0, 0, kMaxEpoch);
                if (auto l = u->find("last_use"); l != u->end() && l->is_number())
                    s2.last_use = number(*u, "last_use", 0, 0, kMaxEpoch);
                if (auto h = u->find("hour_of_week"); h != u->end()) {
                    auto counts = split_counts(*h, 168);
                    if (counts.size() != 168)
                        throw std::invalid_argument("hour_of_week needs 168 counts");
                    for (size_t i = 0; i < 168; ++i) {
                        if (counts[i] > UINT32_MAX)
                            throw std::invalid_argument("hour_of_week count out of range");
                        s2.hour_of_week[i] = static_cast<uint32_t>(counts[i]);
                    }
                }
            }
            if (auto b = r.find("bench"); b != r.end() && b->is_array())
                for (const auto& result : *b)
                    m.bench.push_back(bench_from(result));
            if (auto v = r.find("versions"); v != r.end() && v->is_array())
                for (const auto& e : *v)
                    m.versions.push_back({e.at("digest").get<std::string>(), count(e, "size"),
                                          time_from(e, "pulled_at").value_or(util::Timestamp{}),
                                          e.value("tag", "")});
            out.emplace(name, std::move(m));
        }
    } catch (const std::exception& e) { // json::exception, or a value out of bounds
        throw Error(ErrorKind::Store, "has a malformed model record: " + std::string(e.what()));
    }
    return out;
}

} // namespace

State state_from_json(const json& j, const std::string& endpoint) {
    if (!j.is_object() || !j.contains("schema_version") || !j["schema_version"].is_number_integer())
        throw Error(ErrorKind::Store, "has no schema_version");
    State s;
    s.schema_version = j["schema_version"].get<int>();
    if (s.schema_version > kSchemaVersion)
        throw Error(ErrorKind::Store,
                    "was written by a newer modelctl (schema " + std::to_string(s.schema_version) +
                        "; this one reads up to " + std::to_string(kSchemaVersion) + ")");
    if (s.schema_version < 1)
        throw Error(ErrorKind::Store, "has an invalid schema_version");
    std::map<std::string, std::map<std::string, ModelRecord>> all;
    if (s.schema_version < 6) { // one server, Ollama's: the default endpoint's
        auto models = j.find("models");
        if (models == j.end() || !models->is_object())
            throw Error(ErrorKind::Store, "has no models object");
        all[kDefaultEndpoint] = models_from(*models);
    } else {
        auto eps = j.find("endpoints");
        if (eps == j.end() || !eps->is_object())
            throw Error(ErrorKind::Store, "has no endpoints object");
        for (const auto& [name, e] : eps->items()) {
            if (!e.is_object() || !e.contains("models") || !e["models"].is_object())
                throw Error(ErrorKind::Store, "has no models object for endpoint '" + name + "'");
            all[name] = models_from(e["models"]);
            if (auto u = e.find("url"); u != e.end()) {
                if (!u->is_string() || u->get<std::string>().size() > 1024)
                    throw Error(ErrorKind::Store, "has a bad url for endpoint '" + name + "'");
                s.urls[name] = u->get<std::string>();
            }
            if (auto f = e.find("formerly"); f != e.end()) {
                if (!f->is_array() || f->size() > 64)
                    throw Error(ErrorKind::Store,
                                "has a bad formerly list for endpoint '" + name + "'");
                for (const auto& n : *f) {
                    if (!n.is_string() || n.get<std::string>().size() > 256)
                        throw Error(ErrorKind::Store,
                                    "has a bad formerly list for endpoint '" + name + "'");
                    s.formerly[name].push_back(n.get<std::string>());
                }
            }
        }
    }
    s.endpoint = endpoint;
    if (auto it = all.find(endpoint); it != all.end()) {
        s.models = std::move(it->second);
        all.erase(it);
    }
    s.other_endpoints = std::move(all);
    if (auto l = j.find("log"); l != j.end() && l->is_object()) {
        try {
            s.log = LogMark{count(*l, "dev", UINT64_MAX), count(*l, "ino", UINT64_MAX),
                            count(*l, "offset")};
        } catch (const std::exception& e) {
            throw Error(ErrorKind::Store, "has a malformed log mark: " + std::string(e.what()));
        }
    }
    s.schema_version = kSchemaVersion; // older versions are read as this one, and written so
    return s;
}

json to_json(const Event& e) {
    json j = {{"v", 1},
              {"type", e.type},
              {"model", e.model},
              {"server", e.server},
              {"at", util::format_rfc3339(e.at)},
              {"seconds", e.seconds}};
    if (!e.endpoint.empty())
        j["endpoint"] = e.endpoint;
    if (e.size || e.size_vram) {
        j["size"] = e.size;
        j["size_vram"] = e.size_vram;
    }
    if (e.type == "use") {
        j["latency_ms"] = e.latency_ms;
        if (e.ttft_ms)
            j["ttft_ms"] = *e.ttft_ms;
        j["tokens_in"] = e.tokens_in;
        j["tokens_out"] = e.tokens_out;
        if (e.eval_seconds > 0)
            j["eval_seconds"] = e.eval_seconds;
        j["failed"] = e.failed;
        if (!e.task.empty())
            j["task"] = e.task;
    }
    return j;
}

std::optional<Event> event_from_json(const json& j) {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("model"))
        return std::nullopt;
    try {
        Event e;
        e.type = j["type"].get<std::string>();
        e.model = j["model"].get<std::string>();
        e.server = j.value("server", "");
        e.endpoint = j.value("endpoint", "");
        auto at = time_from(j, "at");
        if (!at)
            return std::nullopt;
        e.at = *at;
        e.seconds = number(j, "seconds", 0, 0, kMaxSeconds);
        e.size = count(j, "size");
        e.size_vram = count(j, "size_vram");
        e.latency_ms = number(j, "latency_ms", 0, 0, kMaxMilliseconds);
        if (auto t = j.find("ttft_ms"); t != j.end() && t->is_number())
            e.ttft_ms = number(j, "ttft_ms", 0, 0, kMaxMilliseconds);
        e.tokens_in = count(j, "tokens_in", kMaxTokens);
        e.tokens_out = count(j, "tokens_out", kMaxTokens);
        e.eval_seconds = number(j, "eval_seconds", 0, 0, kMaxSeconds);
        e.failed = j.value("failed", false);
        e.task = j.value("task", "");
        if (e.model.empty())
            return std::nullopt;
        return e;
    } catch (const std::exception&) { // json::exception, or a value out of bounds
        return std::nullopt;
    }
}

std::string invalid_use(const Event& e) {
    auto bad_ms = [](double v) { return !std::isfinite(v) || v < 0 || v > kMaxMilliseconds; };
    if (e.model.empty())
        return "no model";
    if (bad_ms(e.latency_ms))
        return "latency_ms must be a number from 0 to " + std::to_string(int64_t(kMaxMilliseconds));
    if (e.ttft_ms && bad_ms(*e.ttft_ms))
        return "ttft_ms must be a number from 0 to " + std::to_string(int64_t(kMaxMilliseconds));
    if (!std::isfinite(e.eval_seconds) || e.eval_seconds < 0 || e.eval_seconds > kMaxSeconds)
        return "eval time must be a number from 0 to " +
               std::to_string(int64_t(kMaxSeconds * 1000)) + " ms";
    if (e.tokens_in > kMaxTokens || e.tokens_out > kMaxTokens)
        return "token counts must be at most " + std::to_string(kMaxTokens);
    return {};
}

namespace {

double epoch(util::Timestamp t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

} // namespace

void note_use(ModelRecord& r, util::Timestamp at) {
    policy::Params p;
    policy::UseCount c{r.uses, r.uses_at ? epoch(*r.uses_at) : epoch(at)};
    c = policy::add_use(c, epoch(at), p);
    r.uses = c.count;
    r.uses_at = util::Timestamp(
        std::chrono::duration_cast<util::Timestamp::duration>(std::chrono::duration<double>(c.at)));
    if (!r.last_used || *r.last_used < at)
        r.last_used = at;
}

std::string owner(const State& state, const Event& e) {
    std::string endpoint = e.endpoint.empty() ? kDefaultEndpoint : e.endpoint;
    for (const auto& [name, former] : state.formerly)
        if (std::find(former.begin(), former.end(), endpoint) != former.end())
            return name;
    return endpoint;
}

void fold_use(State& state, const Event& e) {
    std::string endpoint = owner(state, e);
    auto& models = endpoint == state.endpoint ? state.models : state.other_endpoints[endpoint];
    auto [it, inserted] = models.try_emplace(
        e.endpoint.empty() ? provider::ollama::normalize_name(e.model) : e.model);
    ModelRecord& r = it->second;
    if (inserted)
        r.first_seen = r.last_seen = e.at;
    double at = epoch(e.at);
    std::time_t t = static_cast<std::time_t>(at);
    std::tm tm{};
    localtime_r(&t, &tm);
    metrics::Use u;
    u.at = at;
    u.latency_ms = e.latency_ms;
    u.ttft_ms = e.ttft_ms;
    u.tokens_in = e.tokens_in;
    u.tokens_out = e.tokens_out;
    u.eval_seconds = e.eval_seconds;
    u.failed = e.failed;
    u.hour_of_week = metrics::hour_of_week(at, tm.tm_gmtoff);
    r.usage.add(u);
    note_use(r, e.at);
}

Store::Store(fs::path dir, std::chrono::milliseconds lock_timeout, uint64_t max_log_bytes,
             std::string endpoint)
    : dir_(std::move(dir)), lock_timeout_(lock_timeout), max_log_bytes_(max_log_bytes),
      endpoint_(std::move(endpoint)) {}

void Store::identify(std::string url, std::set<std::string> siblings,
                     std::function<void(const std::string&)> notice) {
    url_ = std::move(url);
    siblings_ = std::move(siblings);
    notice_ = std::move(notice);
}

void Store::adopt(State& s) const {
    if (url_.empty())
        return;
    if (s.models.empty()) {
        for (auto it = s.other_endpoints.begin(); it != s.other_endpoints.end(); ++it) {
            const std::string name = it->first;
            auto u = s.urls.find(name);
            if (name == endpoint_ || siblings_.count(name) || u == s.urls.end() ||
                u->second != url_ || it->second.empty())
                continue;
            s.models = std::move(it->second);
            auto& former = s.formerly[endpoint_];
            former.push_back(name);
            for (const auto& f : s.formerly[name])
                former.push_back(f);
            s.formerly.erase(name);
            s.urls.erase(name);
            s.other_endpoints.erase(it);
            s.adopted_from = name;
            if (notice_ && !noticed_) {
                noticed_ = true;
                notice_("endpoint '" + endpoint_ + "' takes over what modelctl knew as '" + name +
                        "' (the same server, " + url_ + "): pins, priorities, history and usage");
            }
            break;
        }
    }
    if (!s.models.empty())
        s.urls[endpoint_] = url_;
}

std::vector<Event> Store::stamped(std::vector<Event> events) const {
    for (auto& e : events)
        if (e.endpoint.empty())
            e.endpoint = endpoint_;
    return events;
}

void Store::ensure_dir() const {
    make_private_dirs(dir_);
}

namespace {

// state.json for thousands of models with their bench history stays in the
// low megabytes; a file past this was not written by modelctl.
constexpr uint64_t kMaxStateBytes = 256ULL << 20;

// A log file as read: -1 when absent.
struct LogFile {
    int fd = -1;
    uint64_t dev = 0, ino = 0, size = 0;
    LogFile() = default;
    LogFile(const fs::path& p, uint64_t max_bytes) {
        fd = util::open_regular(p, ErrorKind::Store, size);
        if (fd < 0)
            return;
        struct stat st {};
        if (::fstat(fd, &st) != 0)
            throw Error(ErrorKind::Store,
                        "cannot read " + p.string() + ": " + util::errno_text(errno));
        dev = static_cast<uint64_t>(st.st_dev);
        ino = static_cast<uint64_t>(st.st_ino);
        if (size > max_bytes)
            throw Error(ErrorKind::Store,
                        p.string() + " is larger than the " + util::format_size(max_bytes) +
                            " modelctl reads (history.max_log_size rotates it far sooner)",
                        "move it aside; it is not a log modelctl wrote");
    }
    ~LogFile() {
        if (fd >= 0)
            ::close(fd);
    }
    LogFile(const LogFile&) = delete;
    LogFile& operator=(const LogFile&) = delete;
    bool is(const LogMark& m) const { return fd >= 0 && ino == m.ino && dev == m.dev; }
    // Bytes [from, size), at most `most`; throws on a read error.
    std::string read_from(uint64_t from, const fs::path& p, uint64_t most = UINT64_MAX) const {
        std::string text(std::min(size > from ? size - from : 0, most), '\0');
        size_t have = 0;
        while (have < text.size()) {
            ssize_t n = ::pread(fd, text.data() + have, text.size() - have,
                                static_cast<off_t>(from + have));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                throw Error(ErrorKind::Store,
                            "cannot read " + p.string() + ": " + util::errno_text(errno));
            if (n == 0)
                break; // truncated meanwhile
            have += static_cast<size_t>(n);
        }
        text.resize(have);
        return text;
    }
    bool has_header(const fs::path& p) const {
        size_t want = std::strlen(kLogHeader);
        return size >= want && read_from(0, p, want) == kLogHeader;
    }
};

// Calls on_line for each complete line of `text`; returns the length of the
// complete lines (a torn last line is left for later).
template <class F> size_t each_line(std::string_view text, F on_line) {
    size_t start = 0, end;
    while ((end = text.find('\n', start)) != std::string_view::npos) {
        on_line(text.substr(start, end - start));
        start = end + 1;
    }
    return start;
}

std::optional<Event> parse_event(std::string_view line) {
    auto j = json::parse(line, nullptr, false);
    return j.is_discarded() ? std::nullopt : event_from_json(j);
}

[[noreturn]] void mark_past_end(const fs::path& log, const LogMark& m, uint64_t size) {
    throw Error(ErrorKind::Store,
                "the usage log " + log.string() + " is shorter (" + std::to_string(size) +
                    " bytes) than state.json says it has folded (" + std::to_string(m.offset) +
                    "): it was replaced or truncated",
                "`modelctl store --repair` folds in the uses it holds that the state lacks");
}

} // namespace

uint64_t Store::max_log_read() const {
    return std::max<uint64_t>(4 * max_log_bytes_, 64ULL << 20);
}

State Store::read_unlocked(json* document) const {
    auto text = util::read_file(state_path(), kMaxStateBytes, ErrorKind::Store);
    if (!text) {
        State empty;
        empty.endpoint = endpoint_;
        return empty;
    }
    json j = json::parse(*text, nullptr, false);
    const std::string hint = "move it aside with `modelctl store --repair` (the file is kept)";
    if (j.is_discarded())
        throw Error(ErrorKind::Store,
                    "the store file " + state_path().string() +
                        " is corrupt (not valid JSON); it was left untouched",
                    hint);
    try {
        State s = state_from_json(j, endpoint_);
        if (document)
            *document = std::move(j);
        return s;
    } catch (const Error& e) {
        bool newer = std::string(e.what()).find("newer") != std::string::npos;
        throw Error(ErrorKind::Store,
                    "the store file " + state_path().string() + " " + e.what() +
                        "; it was left untouched",
                    newer ? "upgrade modelctl, or point MODELCTL_HOME elsewhere" : hint);
    }
}

State Store::read() const {
    State s = read_unlocked();
    fold_pending(s);
    adopt(s);
    return s;
}

void Store::fold_pending(State& s) const {
    if (!s.log)
        return; // an older state: its log was folded as it was written
    auto fold = [&s](std::string_view text) {
        return each_line(text, [&s](std::string_view line) {
            if (auto e = parse_event(line); e && e->type == "use")
                fold_use(s, *e);
        });
    };
    // The file the mark names is the current log, or, after a rotation the
    // state did not see (a crash), the rotated one: then all of the current
    // log is past the mark too.
    LogMark mark = *s.log;
    LogFile cur(events_path(), max_log_read());
    uint64_t from = 0;
    if (cur.is(mark)) {
        if (mark.offset > cur.size)
            mark_past_end(events_path(), mark, cur.size);
        from = mark.offset;
    } else {
        LogFile old(rotated_events_path(), max_log_read());
        if (old.is(mark)) {
            if (mark.offset > old.size)
                mark_past_end(rotated_events_path(), mark, old.size);
            fold(old.read_from(mark.offset, rotated_events_path()));
        }
    }
    if (cur.fd < 0) {
        s.log.reset();
        return;
    }
    uint64_t to = from + fold(cur.read_from(from, events_path()));
    s.log = LogMark{cur.dev, cur.ino, to};
}

void Store::append(const std::vector<Event>& given) {
    if (given.empty())
        return;
    auto uses = stamped(given);
    std::string lines;
    for (const auto& e : uses)
        lines += to_json(e).dump() + "\n";
    ensure_dir();
    LockFile lock(dir_ / "lock", lock_timeout_);
    // The common case: the log has a header (so the state has a mark), stays
    // within its size and does not cross a fold boundary: one append. The
    // state is not read (that is what makes recording cheap); a damaged one
    // is reported by the next command that reads it, and repair() folds
    // these uses in again.
    struct stat st {};
    if (::stat(state_path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        LogFile log(events_path(), max_log_read());
        auto after = log.size + lines.size();
        if (log.fd >= 0 && log.has_header(events_path()) && after <= max_log_bytes_ &&
            log.size / kFoldBytes == after / kFoldBytes) {
            append_durably(events_path(), lines);
            return;
        }
    }
    update_locked([](State&) {}, std::move(lines), uses);
}

State Store::update(const std::function<void(State&)>& mutate, const std::vector<Event>& given) {
    auto events = stamped(given);
    std::string lines;
    for (const auto& e : events)
        lines += to_json(e).dump() + "\n";
    ensure_dir();
    LockFile lock(dir_ / "lock", lock_timeout_);
    return update_locked(mutate, std::move(lines), events);
}

State Store::update_locked(const std::function<void(State&)>& mutate, std::string lines,
                           const std::vector<Event>& events) {
    // What the file holds now, to tell whether the mutation changed anything
    // (as parsed: serializing the state again would cost as much once more).
    json before;
    State state = read_unlocked(&before);
    if (before.is_null())
        before = to_json(state);
    fold_pending(state);
    adopt(state);
    if (!lines.empty()) {
        bool exists = false, header = false;
        uint64_t size = 0;
        {
            LogFile log(events_path(), max_log_read());
            exists = log.fd >= 0 && log.size > 0;
            header = exists && log.has_header(events_path());
            size = log.size;
        }
        // Everything in the log is folded now: a log too big to grow, or one
        // from before log marks, can be set aside whole.
        if (exists && (!header || size + lines.size() > max_log_bytes_)) {
            rename_durably(events_path(), rotated_events_path());
            exists = false;
        }
        if (!exists)
            lines = kLogHeader + lines;
        append_durably(events_path(), lines);
        for (const auto& e : events)
            if (e.type == "use")
                fold_use(state, e);
        LogFile log(events_path(), max_log_read());
        if (log.fd >= 0)
            state.log = LogMark{log.dev, log.ino, log.size};
    }
    mutate(state);
    adopt(state); // records the url of an endpoint that had none before
    state.schema_version = kSchemaVersion;
    json after = to_json(state);
    if (after != before)
        write_atomically(state_path(), after.dump() + "\n");
    return state;
}

EventLog Store::read_events() const {
    EventLog log;
    // Open the current log before the rotated one: if a rotation happens in
    // between, both name the same file, and it is read once.
    LogFile cur(events_path(), max_log_read());
    LogFile old(rotated_events_path(), max_log_read());
    log.rotated = old.fd >= 0;
    bool same = log.rotated && cur.fd >= 0 && old.ino == cur.ino && old.dev == cur.dev;
    auto read = [&log](std::string_view text) {
        size_t done = each_line(text, [&log](std::string_view line) {
            if (line.empty() || (line.size() + 1 == std::strlen(kLogHeader) &&
                                 std::string(line) + "\n" == kLogHeader))
                return;
            if (auto e = parse_event(line))
                log.events.push_back(std::move(*e));
            else
                ++log.skipped;
        });
        if (done < text.size()) // a torn last line
            ++log.skipped;
    };
    if (log.rotated && !same)
        read(old.read_from(0, rotated_events_path()));
    if (cur.fd >= 0)
        read(cur.read_from(0, events_path()));
    return log;
}

State Store::check_writable() const {
    ensure_dir();
    LockFile lock(dir_ / "lock", lock_timeout_);
    State state = read();
    for (const auto& p : {dir_, state_path()})
        if (::access(p.c_str(), W_OK) != 0 && errno != ENOENT)
            throw Error(ErrorKind::Store,
                        "cannot write " + p.string() + ": " + util::errno_text(errno),
                        "check its owner and mode (was modelctl once run with sudo?)");
    return state;
}

RepairReport Store::repair() {
    ensure_dir();
    LockFile lock(dir_ / "lock", lock_timeout_);
    RepairReport report;
    std::optional<State> state;
    try {
        state = read_unlocked();
    } catch (const Error& e) {
        if (std::string(e.what()).find("newer modelctl") != std::string::npos)
            throw; // not ours to replace
        // Unreadable: moved aside below, and rebuilt from the log.
    }
    if (state) {
        try {
            fold_pending(*state);
            return report; // healthy
        } catch (const Error& e) {
            if (std::string(e.what()).find("shorter") == std::string::npos)
                throw;
        }
        // The log was replaced under the mark: fold its uses that are newer
        // than what each model's summary already holds.
        report.log_replaced = true;
        LogFile cur(events_path(), max_log_read());
        auto text = cur.fd >= 0 ? cur.read_from(0, events_path()) : std::string();
        size_t done = each_line(text, [&](std::string_view line) {
            auto e = parse_event(line);
            if (!e || e->type != "use")
                return;
            std::string ep = owner(*state, *e);
            auto& models = ep == state->endpoint ? state->models : state->other_endpoints[ep];
            std::string name =
                e->endpoint.empty() ? provider::ollama::normalize_name(e->model) : e->model;
            auto it = models.find(name);
            double at = std::chrono::duration<double>(e->at.time_since_epoch()).count();
            if (it != models.end() && it->second.usage.last_use && at <= *it->second.usage.last_use)
                return;
            fold_use(*state, *e);
            ++report.uses_folded;
        });
        state->log = cur.fd >= 0 ? std::optional(LogMark{cur.dev, cur.ino, done}) : std::nullopt;
        write_atomically(state_path(), to_json(*state).dump() + "\n");
        return report;
    }
    std::string stamp = util::format_rfc3339(util::now()).substr(0, 19);
    for (char& c : stamp)
        if (c == ':')
            c = '-';
    fs::path aside = state_path();
    aside += ".corrupt-" + stamp;
    std::error_code ec;
    for (int i = 1; fs::exists(aside, ec); ++i) {
        aside = state_path();
        aside += ".corrupt-" + stamp + "-" + std::to_string(i);
    }
    rename_durably(state_path(), aside);
    report.moved_to = aside;
    // What can be had again: every use in the log (the rotated part first).
    State fresh;
    fresh.endpoint = endpoint_;
    auto log = read_events();
    for (const auto& e : log.events)
        if (e.type == "use") {
            fold_use(fresh, e);
            ++report.uses_folded;
        }
    LogFile cur(events_path(), max_log_read());
    if (cur.fd >= 0) {
        bool header = cur.has_header(events_path());
        auto text = cur.read_from(0, events_path());
        auto done = each_line(text, [](std::string_view) {});
        if (header) // uses past the mark fold later; all before it are in
            fresh.log = LogMark{cur.dev, cur.ino, done};
    }
    write_atomically(state_path(), to_json(fresh).dump() + "\n");
    return report;
}

} // namespace core::store

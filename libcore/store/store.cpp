#include "store/store.hpp"

#include "error.hpp"
#include "provider/ollama_api.hpp"
#include "store/atomicfile.hpp"
#include "store/lockfile.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace core::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

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

std::vector<uint64_t> split_counts(const json& v) {
    std::vector<uint64_t> out;
    if (v.is_array()) { // as a JSON array
        for (const auto& n : v)
            out.push_back(n.get<uint64_t>());
        return out;
    }
    const auto& s = v.get_ref<const std::string&>();
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
        uint64_t n = 0;
        auto [next, ec] = std::from_chars(p, end, n);
        if (ec != std::errc() || (next < end && *next != ','))
            throw std::invalid_argument("bad counts '" + s + "'");
        out.push_back(n);
        p = next + 1;
    }
    return out;
}

// A histogram as schema 3 writes it, {"from": i, "counts": "n,n,..."} under
// `key`, or as schema 2 did, {"i": n, ...} under `key` + "_buckets".
void read_histogram(const json& usage, const std::string& key, metrics::Histogram& h) {
    if (auto d = usage.find(key); d != usage.end() && d->is_object()) {
        int from = d->value("from", 0);
        auto counts = split_counts(d->at("counts"));
        for (size_t k = 0; k < counts.size(); ++k)
            if (counts[k])
                h.set_bucket(from + static_cast<int>(k), counts[k]);
    } else if (auto o = usage.find(key + "_buckets"); o != usage.end() && o->is_object()) {
        for (const auto& [i, n] : o->items())
            h.set_bucket(std::stoi(i), n.get<uint64_t>());
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

std::string read_file(const fs::path& p, bool& exists) {
    std::ifstream in(p, std::ios::binary);
    exists = bool(in);
    if (!in)
        return {};
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
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
            {"tokens", b.tokens},
            {"regressed", b.regressed}};
}

bench::Result bench_from(const json& j) {
    bench::Result b;
    b.at = time_from(j, "at").value_or(util::Timestamp{});
    b.digest = j.value("digest", "");
    const auto& st = j.at("settings");
    b.settings.prompt_hash = st.value("prompt_hash", "");
    b.settings.prompt_chars = st.value("prompt_chars", size_t{0});
    b.settings.num_predict = st.value("num_predict", 0);
    b.settings.num_ctx = st.value("num_ctx", 0);
    b.settings.runs = st.value("runs", 0);
    b.settings.cold = st.value("cold", false);
    if (auto l = j.find("load_seconds"); l != j.end() && l->is_number())
        b.load_seconds = l->get<double>();
    b.size = j.value("size", uint64_t{0});
    b.size_vram = j.value("size_vram", uint64_t{0});
    b.ttft_ms = spread_from(j, "ttft_ms");
    b.total_ms = spread_from(j, "total_ms");
    b.prompt_tokens_per_second = spread_from(j, "prompt_tokens_per_second");
    b.tokens_per_second = spread_from(j, "tokens_per_second");
    b.tokens = j.value("tokens", 0.0);
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
    for (const auto& [name, records] : s.other_endpoints)
        if (!records.empty())
            endpoints[name] = {{"models", models_json(records)}};
    if (!s.models.empty())
        endpoints[s.endpoint] = {{"models", models_json(s.models)}};
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
            m.size = r.value("size", uint64_t{0});
            m.details = details_from(r.value("details", json::object()));
            m.capabilities = r.value("capabilities", std::vector<std::string>{});
            m.first_seen = time_from(r, "first_seen").value_or(util::Timestamp{});
            m.last_seen = time_from(r, "last_seen").value_or(m.first_seen);
            m.last_used = time_from(r, "last_used");
            m.last_unload = time_from(r, "last_unload");
            m.loads = r.value("loads", 0);
            m.load_seconds_total = r.value("load_seconds_total", 0.0);
            m.unloads = r.value("unloads", 0);
            if (auto l = r.find("last_load"); l != r.end() && l->is_object()) {
                LoadRecord lr;
                lr.at = time_from(*l, "at").value_or(util::Timestamp{});
                lr.seconds = l->value("seconds", 0.0);
                lr.size = l->value("size", uint64_t{0});
                lr.size_vram = l->value("size_vram", uint64_t{0});
                lr.context_length = l->value("context_length", 0);
                m.last_load = lr;
            }
            if (auto p = r.find("pinned"); p != r.end() && p->is_boolean())
                m.pinned = p->get<bool>();
            if (auto p = r.find("priority"); p != r.end() && p->is_number_integer())
                m.priority = p->get<int>();
            if (auto u = r.find("uses"); u != r.end() && u->is_object()) {
                m.uses = u->value("count", 0.0);
                m.uses_at = time_from(*u, "at");
            }
            m.seen_expires_at = time_from(r, "seen_expires_at");
            if (auto k = r.find("keep_alive_seconds"); k != r.end() && k->is_number())
                m.keep_alive_seconds = k->get<double>();
            if (auto o = r.find("observed"); o != r.end() && o->is_object())
                for (const auto& [ctx, v] : o->items())
                    m.observed[std::stoi(ctx)] = {v.value("size", uint64_t{0}),
                                                  v.value("size_vram", uint64_t{0}),
                                                  time_from(v, "at").value_or(util::Timestamp{})};
            if (auto u = r.find("usage"); u != r.end() && u->is_object()) {
                auto& s2 = m.usage;
                s2.uses = u->value("uses", uint64_t{0});
                s2.failures = u->value("failures", uint64_t{0});
                read_histogram(*u, "latency_ms", s2.latency);
                read_histogram(*u, "ttft_ms", s2.ttft);
                s2.tokens_in = u->value("tokens_in", uint64_t{0});
                s2.tokens_out = u->value("tokens_out", uint64_t{0});
                s2.timed_tokens_out = u->value("timed_tokens_out", uint64_t{0});
                s2.eval_seconds = u->value("eval_seconds", 0.0);
                if (auto l = u->find("first_use"); l != u->end() && l->is_number())
                    s2.first_use = l->get<double>();
                if (auto l = u->find("last_use"); l != u->end() && l->is_number())
                    s2.last_use = l->get<double>();
                if (auto h = u->find("hour_of_week"); h != u->end()) {
                    auto counts = split_counts(*h);
                    if (counts.size() != 168)
                        throw std::invalid_argument("hour_of_week needs 168 counts");
                    for (size_t i = 0; i < 168; ++i)
                        s2.hour_of_week[i] = static_cast<uint32_t>(counts[i]);
                }
            }
            if (auto b = r.find("bench"); b != r.end() && b->is_array())
                for (const auto& result : *b)
                    m.bench.push_back(bench_from(result));
            if (auto v = r.find("versions"); v != r.end() && v->is_array())
                for (const auto& e : *v)
                    m.versions.push_back({e.at("digest").get<std::string>(),
                                          e.value("size", uint64_t{0}),
                                          time_from(e, "pulled_at").value_or(util::Timestamp{}),
                                          e.value("tag", "")});
            out.emplace(name, std::move(m));
        }
    } catch (const std::exception& e) { // json::exception, or a bad context key
        throw Error(ErrorKind::Store, std::string("has a malformed model record: ") + e.what());
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
        }
    }
    s.endpoint = endpoint;
    if (auto it = all.find(endpoint); it != all.end()) {
        s.models = std::move(it->second);
        all.erase(it);
    }
    s.other_endpoints = std::move(all);
    if (auto l = j.find("log"); l != j.end() && l->is_object())
        s.log = LogMark{l->value("dev", uint64_t{0}), l->value("ino", uint64_t{0}),
                        l->value("offset", uint64_t{0})};
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
        e.seconds = j.value("seconds", 0.0);
        e.size = j.value("size", uint64_t{0});
        e.size_vram = j.value("size_vram", uint64_t{0});
        e.latency_ms = j.value("latency_ms", 0.0);
        if (auto t = j.find("ttft_ms"); t != j.end() && t->is_number())
            e.ttft_ms = t->get<double>();
        e.tokens_in = j.value("tokens_in", uint64_t{0});
        e.tokens_out = j.value("tokens_out", uint64_t{0});
        e.eval_seconds = j.value("eval_seconds", 0.0);
        e.failed = j.value("failed", false);
        e.task = j.value("task", "");
        return e;
    } catch (const json::exception&) {
        return std::nullopt;
    }
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

void fold_use(State& state, const Event& e) {
    std::string endpoint = e.endpoint.empty() ? kDefaultEndpoint : e.endpoint;
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

std::vector<Event> Store::stamped(std::vector<Event> events) const {
    for (auto& e : events)
        if (e.endpoint.empty())
            e.endpoint = endpoint_;
    return events;
}

void Store::ensure_dir() const {
    make_private_dirs(dir_);
}

State Store::read_unlocked(json* document) const {
    bool exists = false;
    std::string text = read_file(state_path(), exists);
    if (!exists) {
        State empty;
        empty.endpoint = endpoint_;
        return empty;
    }
    json j = json::parse(text, nullptr, false);
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
    return s;
}

void Store::fold_pending(State& s) const {
    if (!s.log)
        return; // an older state: its log was folded as it was written
    // The file the mark names is the current log, or, after a rotation the
    // state did not see (a crash), the rotated one: then all of the current
    // log is past the mark too.
    auto open_at = [](const fs::path& p, const LogMark& m, uint64_t& size) -> int {
        int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        struct stat st {};
        if (::fstat(fd, &st) != 0 || st.st_ino != m.ino || st.st_dev != m.dev) {
            ::close(fd);
            return -1;
        }
        size = static_cast<uint64_t>(st.st_size);
        return fd;
    };
    auto fold_from = [&s](int fd, uint64_t from, uint64_t size) -> uint64_t {
        std::string text(size > from ? size - from : 0, '\0');
        ssize_t n =
            text.empty() ? 0 : ::pread(fd, text.data(), text.size(), static_cast<off_t>(from));
        text.resize(n > 0 ? static_cast<size_t>(n) : 0);
        size_t start = 0, end;
        while ((end = text.find('\n', start)) != std::string::npos) {
            auto j = json::parse(std::string_view(text).substr(start, end - start), nullptr, false);
            if (auto e = j.is_discarded() ? std::nullopt : event_from_json(j);
                e && e->type == "use")
                fold_use(s, *e);
            start = end + 1;
        }
        return from + start; // complete lines only
    };
    LogMark mark = *s.log;
    uint64_t size = 0;
    int cur = ::open(events_path().c_str(), O_RDONLY | O_CLOEXEC);
    struct stat cst {};
    if (cur >= 0 && ::fstat(cur, &cst) != 0) {
        ::close(cur);
        cur = -1;
    }
    uint64_t from = 0;
    if (cur >= 0 && cst.st_ino == mark.ino && cst.st_dev == mark.dev) {
        from = mark.offset;
    } else if (int old = open_at(rotated_events_path(), mark, size); old >= 0) {
        fold_from(old, mark.offset, size);
        ::close(old);
    }
    if (cur < 0) {
        s.log.reset();
        return;
    }
    uint64_t to = fold_from(cur, from, static_cast<uint64_t>(cst.st_size));
    s.log = LogMark{static_cast<uint64_t>(cst.st_dev), static_cast<uint64_t>(cst.st_ino), to};
    ::close(cur);
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
    // within its size and does not cross a fold boundary: one append.
    struct stat st {};
    if (::stat(events_path().c_str(), &st) == 0 && ::access(state_path().c_str(), F_OK) == 0) {
        auto size = static_cast<uint64_t>(st.st_size);
        auto after = size + lines.size();
        char head[32] = {};
        int fd = ::open(events_path().c_str(), O_RDONLY | O_CLOEXEC);
        bool header = false;
        if (fd >= 0) {
            size_t want = std::strlen(kLogHeader);
            header = ::pread(fd, head, want, 0) == static_cast<ssize_t>(want) &&
                     std::memcmp(head, kLogHeader, want) == 0;
            ::close(fd);
        }
        if (header && after <= max_log_bytes_ && size / kFoldBytes == after / kFoldBytes) {
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
    if (!lines.empty()) {
        struct stat st {};
        bool exists = ::stat(events_path().c_str(), &st) == 0 && st.st_size > 0;
        bool header = false;
        if (exists) {
            std::ifstream in(events_path(), std::ios::binary);
            std::string first;
            std::getline(in, first);
            header = first + "\n" == kLogHeader;
        }
        // Everything in the log is folded now: a log too big to grow, or one
        // from before log marks, can be set aside whole.
        if (exists &&
            (!header || static_cast<uint64_t>(st.st_size) + lines.size() > max_log_bytes_)) {
            rename_durably(events_path(), rotated_events_path());
            exists = false;
        }
        if (!exists)
            lines = kLogHeader + lines;
        append_durably(events_path(), lines);
        for (const auto& e : events)
            if (e.type == "use")
                fold_use(state, e);
        if (::stat(events_path().c_str(), &st) == 0)
            state.log = LogMark{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                                static_cast<uint64_t>(st.st_size)};
    }
    mutate(state);
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
    std::ifstream current(events_path());
    struct stat cur {
    }, old{};
    bool have_cur = ::stat(events_path().c_str(), &cur) == 0;
    std::ifstream rotated(rotated_events_path());
    log.rotated = rotated.is_open();
    bool same = log.rotated && have_cur && ::stat(rotated_events_path().c_str(), &old) == 0 &&
                old.st_ino == cur.st_ino && old.st_dev == cur.st_dev;
    auto read = [&log](std::istream& in) {
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty())
                continue;
            if (line + "\n" == kLogHeader)
                continue;
            json j = json::parse(line, nullptr, false);
            auto e = j.is_discarded() ? std::nullopt : event_from_json(j);
            if (e)
                log.events.push_back(std::move(*e));
            else
                ++log.skipped;
        }
    };
    if (log.rotated && !same)
        read(rotated);
    read(current);
    return log;
}

std::optional<fs::path> Store::repair() {
    ensure_dir();
    LockFile lock(dir_ / "lock", lock_timeout_);
    try {
        read_unlocked();
        return std::nullopt;
    } catch (const Error&) {
    }
    std::string stamp = util::format_rfc3339(util::now()).substr(0, 19);
    for (char& c : stamp)
        if (c == ':')
            c = '-';
    fs::path aside = state_path();
    aside += ".corrupt-" + stamp;
    for (int i = 1; fs::exists(aside); ++i) {
        aside = state_path();
        aside += ".corrupt-" + stamp + "-" + std::to_string(i);
    }
    fs::rename(state_path(), aside);
    return aside;
}

} // namespace core::store

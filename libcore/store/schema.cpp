#include "store/schema.hpp"

#include "error.hpp"

#include <charconv>
#include <cmath>
#include <map>
#include <string_view>

namespace core::store {

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

// A histogram as written: {"from": i, "counts": "n,n,..."}.
void read_histogram(const json& usage, const char* key, metrics::Histogram& h) {
    constexpr int top = metrics::Histogram::kMaxBucket;
    auto d = usage.find(key);
    if (d == usage.end() || d->is_null())
        return;
    if (!d->is_object())
        bad_value(key, *d);
    int from = integer(*d, "from", 0, 0, top);
    auto counts = split_counts(d->at("counts"), static_cast<size_t>(top - from + 1));
    for (size_t k = 0; k < counts.size(); ++k)
        if (counts[k])
            h.set_bucket(from + static_cast<int>(k), counts[k]);
}

// {"from": i, "counts": "n_i,n_i+1,..."}: bucket indexes run together.
json histogram_json(const metrics::Histogram& h) {
    const auto& b = h.buckets();
    if (b.empty())
        return json{{"from", 0}, {"counts", ""}};
    int from = b.begin()->first;
    std::vector<uint64_t> counts(static_cast<size_t>(b.rbegin()->first - from + 1), 0);
    for (const auto& [i, n] : b)
        counts[static_cast<size_t>(i - from)] = n;
    return json{{"from", from}, {"counts", join_counts(counts)}};
}

json details_json(const model::Details& d) {
    return {{"parent_model", d.parent_model},
            {"format", d.format},
            {"family", d.family},
            {"families", d.families},
            {"parameter_size", d.parameter_size},
            {"quantization_level", d.quantization_level}};
}

model::Details details_from(const json& j) {
    model::Details d;
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

json spread_json(const metrics::Spread& s) {
    return json::array({s.min, s.median, s.max});
}

metrics::Spread spread_from(const json& j, const char* key) {
    auto v = j.at(key);
    if (!v.is_array() || v.size() != 3)
        throw std::invalid_argument(std::string("bench ") + key + " needs [min, median, max]");
    for (const auto& x : v)
        if (!x.is_number() || !std::isfinite(x.get<double>()) || x.get<double>() < 0 ||
            x.get<double>() > 1e15)
            bad_value(key, x);
    return {v[0].get<double>(), v[1].get<double>(), v[2].get<double>()};
}

json bench_json(const metrics::BenchResult& b) {
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

metrics::BenchResult bench_from(const json& j) {
    metrics::BenchResult b;
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

json usage_json(const metrics::Summary& u) {
    return {{"uses", u.uses},
            {"failures", u.failures},
            {"latency_ms", histogram_json(u.latency)},
            {"ttft_ms", histogram_json(u.ttft)},
            {"tokens_in", u.tokens_in},
            {"tokens_out", u.tokens_out},
            {"timed_tokens_out", u.timed_tokens_out},
            {"eval_seconds", u.eval_seconds},
            {"first_use", u.first_use ? json(*u.first_use) : json(nullptr)},
            {"last_use", u.last_use ? json(*u.last_use) : json(nullptr)},
            {"hour_of_week", join_counts(u.hour_of_week)}};
}

metrics::Summary usage_from(const json& u) {
    if (!u.is_object())
        bad_value("usage", u);
    metrics::Summary s;
    s.uses = count(u, "uses");
    s.failures = count(u, "failures", s.uses);
    read_histogram(u, "latency_ms", s.latency);
    read_histogram(u, "ttft_ms", s.ttft);
    s.tokens_in = count(u, "tokens_in");
    s.tokens_out = count(u, "tokens_out");
    s.timed_tokens_out = count(u, "timed_tokens_out");
    s.eval_seconds = number(u, "eval_seconds", 0, 0, 1e15);
    if (auto l = u.find("first_use"); l != u.end() && l->is_number())
        s.first_use = number(u, "first_use", 0, 0, kMaxEpoch);
    if (auto l = u.find("last_use"); l != u.end() && l->is_number())
        s.last_use = number(u, "last_use", 0, 0, kMaxEpoch);
    if (auto h = u.find("hour_of_week"); h != u.end()) {
        auto counts = split_counts(*h, 168);
        if (counts.size() != 168)
            throw std::invalid_argument("hour_of_week needs 168 counts");
        for (size_t i = 0; i < 168; ++i) {
            if (counts[i] > UINT32_MAX)
                throw std::invalid_argument("hour_of_week count out of range");
            s.hour_of_week[i] = static_cast<uint32_t>(counts[i]);
        }
    }
    return s;
}

std::map<int, Observed> observed_from(const json& o) {
    std::map<int, Observed> out;
    if (!o.is_object())
        return out;
    for (const auto& [ctx, v] : o.items()) {
        int n = 0;
        auto [end, ec] = std::from_chars(ctx.data(), ctx.data() + ctx.size(), n);
        if (ec != std::errc() || end != ctx.data() + ctx.size() || n < 0 || n > kMaxContext)
            throw std::invalid_argument("bad context length '" + ctx.substr(0, 40) +
                                        "' in observed");
        out[n] = {count(v, "size"), count(v, "size_vram"),
                  time_from(v, "at").value_or(util::Timestamp{})};
    }
    return out;
}

// The model record, field by field: what each schema added, how it is written
// and read. A key not in this table is kept as it was (ModelRecord::unknown).
const std::vector<Field> kModelFields = {
    {"digest", 1, [](const ModelRecord& m, json& r) { r["digest"] = m.digest; },
     [](const json& r, ModelRecord& m) { m.digest = r.at("digest").get<std::string>(); }},
    {"size", 1, [](const ModelRecord& m, json& r) { r["size"] = m.size; },
     [](const json& r, ModelRecord& m) { m.size = count(r, "size"); }},
    {"details", 1, [](const ModelRecord& m, json& r) { r["details"] = details_json(m.details); },
     [](const json& r, ModelRecord& m) { m.details = details_from(r.at("details")); }},
    {"capabilities", 1, [](const ModelRecord& m, json& r) { r["capabilities"] = m.capabilities; },
     [](const json& r, ModelRecord& m) {
         m.capabilities = r.at("capabilities").get<std::vector<std::string>>();
     }},
    {"first_seen", 1,
     [](const ModelRecord& m, json& r) { r["first_seen"] = util::format_rfc3339(m.first_seen); },
     [](const json& r, ModelRecord& m) {
         m.first_seen = time_from(r, "first_seen").value_or(util::Timestamp{});
     }},
    {"last_seen", 1,
     [](const ModelRecord& m, json& r) { r["last_seen"] = util::format_rfc3339(m.last_seen); },
     [](const json& r, ModelRecord& m) {
         m.last_seen = time_from(r, "last_seen").value_or(util::Timestamp{});
     }},
    {"last_used", 1, [](const ModelRecord& m, json& r) { r["last_used"] = time_json(m.last_used); },
     [](const json& r, ModelRecord& m) { m.last_used = time_from(r, "last_used"); }},
    {"last_unload", 1,
     [](const ModelRecord& m, json& r) { r["last_unload"] = time_json(m.last_unload); },
     [](const json& r, ModelRecord& m) { m.last_unload = time_from(r, "last_unload"); }},
    {"loads", 1, [](const ModelRecord& m, json& r) { r["loads"] = m.loads; },
     [](const json& r, ModelRecord& m) { m.loads = integer(r, "loads", 0, 0, INT32_MAX); }},
    {"load_seconds_total", 1,
     [](const ModelRecord& m, json& r) { r["load_seconds_total"] = m.load_seconds_total; },
     [](const json& r, ModelRecord& m) {
         m.load_seconds_total = number(r, "load_seconds_total", 0, 0, 1e15);
     }},
    {"unloads", 1, [](const ModelRecord& m, json& r) { r["unloads"] = m.unloads; },
     [](const json& r, ModelRecord& m) { m.unloads = integer(r, "unloads", 0, 0, INT32_MAX); }},
    {"last_load", 1,
     [](const ModelRecord& m, json& r) {
         r["last_load"] = nullptr;
         if (const auto& l = m.last_load)
             r["last_load"] = {{"at", util::format_rfc3339(l->at)},
                               {"seconds", l->seconds},
                               {"size", l->size},
                               {"size_vram", l->size_vram},
                               {"context_length", l->context_length}};
     },
     [](const json& r, ModelRecord& m) {
         const auto& l = r.at("last_load");
         if (!l.is_object())
             return;
         LoadRecord lr;
         lr.at = time_from(l, "at").value_or(util::Timestamp{});
         lr.seconds = number(l, "seconds", 0, 0, kMaxSeconds);
         lr.size = count(l, "size");
         lr.size_vram = count(l, "size_vram");
         lr.context_length = integer(l, "context_length", 0, 0, kMaxContext);
         m.last_load = lr;
     }},
    {"pinned", 2,
     [](const ModelRecord& m, json& r) {
         r["pinned"] = m.pinned ? json(*m.pinned) : json(nullptr);
     },
     [](const json& r, ModelRecord& m) {
         if (r.at("pinned").is_boolean())
             m.pinned = r.at("pinned").get<bool>();
     }},
    {"priority", 2,
     [](const ModelRecord& m, json& r) {
         r["priority"] = m.priority ? json(*m.priority) : json(nullptr);
     },
     [](const json& r, ModelRecord& m) { m.priority = integer(r, "priority", 5, 0, 9); }},
    {"uses", 2,
     [](const ModelRecord& m, json& r) {
         r["uses"] = {{"count", m.uses}, {"at", time_json(m.uses_at)}};
     },
     [](const json& r, ModelRecord& m) {
         const auto& u = r.at("uses");
         if (!u.is_object())
             return;
         m.uses = number(u, "count", 0, 0, double(kMaxCount));
         m.uses_at = time_from(u, "at");
     }},
    {"seen_expires_at", 2,
     [](const ModelRecord& m, json& r) { r["seen_expires_at"] = time_json(m.seen_expires_at); },
     [](const json& r, ModelRecord& m) { m.seen_expires_at = time_from(r, "seen_expires_at"); }},
    {"keep_alive_seconds", 2,
     [](const ModelRecord& m, json& r) {
         r["keep_alive_seconds"] =
             m.keep_alive_seconds ? json(*m.keep_alive_seconds) : json(nullptr);
     },
     [](const json& r, ModelRecord& m) {
         if (r.at("keep_alive_seconds").is_number())
             m.keep_alive_seconds = number(r, "keep_alive_seconds", 0, -1e15, 1e15);
     }},
    {"observed", 2,
     [](const ModelRecord& m, json& r) {
         json observed = json::object();
         for (const auto& [ctx, o] : m.observed)
             observed[std::to_string(ctx)] = {
                 {"size", o.size}, {"size_vram", o.size_vram}, {"at", util::format_rfc3339(o.at)}};
         r["observed"] = std::move(observed);
     },
     [](const json& r, ModelRecord& m) { m.observed = observed_from(r.at("observed")); }},
    // Left out while empty (schema 3): every command reads the file.
    {"usage", 1,
     [](const ModelRecord& m, json& r) {
         if (m.usage.uses > 0)
             r["usage"] = usage_json(m.usage);
     },
     [](const json& r, ModelRecord& m) { m.usage = usage_from(r.at("usage")); }},
    {"bench", 5,
     [](const ModelRecord& m, json& r) {
         if (m.bench.empty())
             return;
         json results = json::array();
         for (const auto& b : m.bench)
             results.push_back(bench_json(b));
         r["bench"] = std::move(results);
     },
     [](const json& r, ModelRecord& m) {
         if (!r.at("bench").is_array())
             return;
         for (const auto& result : r.at("bench"))
             m.bench.push_back(bench_from(result));
     }},
    {"versions", 7,
     [](const ModelRecord& m, json& r) {
         if (m.versions.empty())
             return;
         json versions = json::array();
         for (const auto& v : m.versions)
             versions.push_back({{"digest", v.digest},
                                 {"size", v.size},
                                 {"pulled_at", util::format_rfc3339(v.pulled_at)},
                                 {"tag", v.tag}});
         r["versions"] = std::move(versions);
     },
     [](const json& r, ModelRecord& m) {
         if (!r.at("versions").is_array())
             return;
         for (const auto& e : r.at("versions"))
             m.versions.push_back({e.at("digest").get<std::string>(), count(e, "size"),
                                   time_from(e, "pulled_at").value_or(util::Timestamp{}),
                                   e.value("tag", "")});
     }},
};

const Field* model_field(std::string_view key) {
    static const auto index = [] {
        std::map<std::string_view, const Field*> m;
        for (const auto& f : kModelFields)
            m.emplace(f.key, &f);
        return m;
    }();
    auto it = index.find(key);
    return it == index.end() ? nullptr : it->second;
}

json models_json(const std::map<std::string, ModelRecord>& records) {
    json models = json::object();
    for (const auto& [name, m] : records) {
        json r = m.unknown.is_object() ? m.unknown : json::object();
        for (const auto& f : kModelFields)
            f.write(m, r);
        models[name] = std::move(r);
    }
    return models;
}

std::map<std::string, ModelRecord> models_from(const json& models) {
    std::map<std::string, ModelRecord> out;
    try {
        for (const auto& [name, r] : models.items()) {
            if (!r.is_object())
                throw std::invalid_argument("'" + name.substr(0, 40) + "' is not an object");
            ModelRecord m;
            for (const auto& [key, value] : r.items()) {
                if (const Field* f = model_field(key)) {
                    if (!value.is_null())
                        f->read(r, m);
                } else {
                    m.unknown[key] = value;
                }
            }
            if (!r.contains("last_seen"))
                m.last_seen = m.first_seen;
            out.emplace(name, std::move(m));
        }
    } catch (const std::exception& e) { // json::exception, or a value out of bounds
        throw Error(ErrorKind::Store, "has a malformed model record: " + std::string(e.what()));
    }
    return out;
}

// Schema 2 -> 3: a histogram {"i": n, ...} under "<name>_buckets" becomes
// {"from": i, "counts": [...]} under "<name>".
void dense_histograms(json& doc) {
    constexpr int top = metrics::Histogram::kMaxBucket;
    auto models = doc.find("models");
    if (models == doc.end() || !models->is_object())
        return; // refused by a later step
    for (auto& [name, r] : models->items()) {
        auto u = r.is_object() ? r.find("usage") : r.end();
        if (u == r.end() || !u->is_object())
            continue;
        for (const char* key : {"latency_ms", "ttft_ms"}) {
            auto sparse = u->find(std::string(key) + "_buckets");
            if (sparse == u->end())
                continue;
            if (!sparse->is_object())
                bad_value(key, *sparse);
            std::map<int, json> buckets;
            for (const auto& [i, n] : sparse->items()) {
                int index = 0;
                auto [end, ec] = std::from_chars(i.data(), i.data() + i.size(), index);
                if (ec != std::errc() || end != i.data() + i.size() || index < 0 || index > top)
                    throw std::invalid_argument("bad histogram bucket '" + i.substr(0, 40) + "'");
                buckets[index] = n;
            }
            json dense = {{"from", 0}, {"counts", json::array()}};
            if (!buckets.empty()) {
                int from = buckets.begin()->first;
                dense["from"] = from;
                for (int i = from; i <= buckets.rbegin()->first; ++i)
                    dense["counts"].push_back(buckets.count(i) ? buckets[i] : json(uint64_t{0}));
            }
            (*u)[key] = std::move(dense);
            u->erase(sparse);
        }
    }
}

// Schema 5 -> 6: one server's models become the default endpoint's.
void models_by_endpoint(json& doc) {
    auto models = doc.find("models");
    if (models == doc.end() || !models->is_object())
        throw std::invalid_argument("has no models object");
    doc["endpoints"] = {{kDefaultEndpoint, {{"models", std::move(*models)}}}};
    doc.erase("models");
}

const std::vector<Migration> kMigrations = {
    {1,
     "pins, priorities, decayed use counts, expiry observations and the memory observed per "
     "context length (new fields)",
     nullptr},
    {2,
     "usage histograms become dense, {\"from\", \"counts\"} under latency_ms/ttft_ms (were "
     "{\"i\": n} under *_buckets); empty usage summaries are left out",
     dense_histograms},
    {3, "the log mark (an older file has none: its log was folded as it was written)", nullptr},
    {4, "bench results per model (new field)", nullptr},
    {5, "models keyed by endpoint: \"models\" becomes \"endpoints\": {\"ollama\": {\"models\"}}",
     models_by_endpoint},
    {6, "versions per model (new field)", nullptr},
};
static_assert(kSchemaVersion == 7, "a new schema needs its step in kMigrations");

// Known keys of the document and of an endpoint's section.
bool known_top(const std::string& key) {
    return key == "schema_version" || key == "endpoints" || key == "log";
}
bool known_section(const std::string& key) {
    return key == "models" || key == "url" || key == "formerly";
}

} // namespace

const std::vector<Migration>& migrations() {
    return kMigrations;
}

const std::vector<Field>& model_fields() {
    return kModelFields;
}

json to_json(const State& s) {
    json endpoints = json::object();
    auto section = [&s](const std::string& name,
                        const std::map<std::string, ModelRecord>& records) {
        json e = json::object();
        if (auto u = s.unknown_in_endpoint.find(name); u != s.unknown_in_endpoint.end())
            e = u->second;
        e["models"] = models_json(records);
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
    json j = s.unknown.is_object() ? s.unknown : json::object();
    j["schema_version"] = kSchemaVersion;
    j["endpoints"] = std::move(endpoints);
    if (s.log)
        j["log"] = {{"dev", s.log->dev}, {"ino", s.log->ino}, {"offset", s.log->offset}};
    return j;
}

State state_from_json(const json& given, const std::string& endpoint) {
    if (!given.is_object() || !given.contains("schema_version") ||
        !given["schema_version"].is_number_integer())
        throw Error(ErrorKind::Store, "has no schema_version");
    int version = given["schema_version"].get<int>();
    if (version > kSchemaVersion)
        throw Error(ErrorKind::Store, "was written by a newer modelctl (schema " +
                                          std::to_string(version) + "; this one reads up to " +
                                          std::to_string(kSchemaVersion) + ")");
    if (version < 1)
        throw Error(ErrorKind::Store, "has an invalid schema_version");
    const json* doc = &given;
    json migrated;
    if (version < kSchemaVersion) {
        migrated = given;
        try {
            for (const auto& m : kMigrations)
                if (m.from >= version && m.apply)
                    m.apply(migrated);
        } catch (const std::exception& e) {
            throw Error(ErrorKind::Store, "(schema " + std::to_string(version) +
                                              ") cannot be read: " + std::string(e.what()));
        }
        doc = &migrated;
    }
    const json& j = *doc;
    State s;
    for (const auto& [key, value] : j.items())
        if (!known_top(key))
            s.unknown[key] = value;
    std::map<std::string, std::map<std::string, ModelRecord>> all;
    auto eps = j.find("endpoints");
    if (eps == j.end() || !eps->is_object())
        throw Error(ErrorKind::Store, "has no endpoints object");
    for (const auto& [name, e] : eps->items()) {
        if (!e.is_object() || !e.contains("models") || !e["models"].is_object())
            throw Error(ErrorKind::Store, "has no models object for endpoint '" + name + "'");
        all[name] = models_from(e["models"]);
        for (const auto& [key, value] : e.items())
            if (!known_section(key))
                s.unknown_in_endpoint[name][key] = value;
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
        if (e.cancelled)
            j["cancelled"] = true;
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
        if (e.model.empty())
            return std::nullopt;
        e.server = j.value("server", "");
        e.endpoint = j.value("endpoint", "");
        if (!j.contains("endpoint")) { // from before endpoints: see event_from_json's contract
            e.endpoint = kDefaultEndpoint;
            auto slash = e.model.rfind('/');
            auto colon = e.model.rfind(':');
            if (colon == std::string::npos || (slash != std::string::npos && colon < slash))
                e.model += ":latest";
        }
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
        e.cancelled = j.value("cancelled", false);
        e.task = j.value("task", "");
        return e;
    } catch (const std::exception&) { // json::exception, or a value out of bounds
        return std::nullopt;
    }
}

} // namespace core::store

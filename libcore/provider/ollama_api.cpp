#include "provider/ollama_api.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace core::provider::ollama {

using nlohmann::json;

namespace {

json parse_json(std::string_view body, std::string_view what) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded())
        throw Error(ErrorKind::Protocol,
                    "the server's answer to " + std::string(what) +
                        " is not valid JSON: " + error_message(0, body.substr(0, 80)));
    return j;
}

// A string from the server, as it may be printed: control characters
// escaped (a model name with ESC[2J must not clear a terminal), and no
// longer than any name or label has reason to be.
std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
        return {};
    return util::printable(util::shorten(it->get_ref<const std::string&>(), 4096));
}

// A number from the server within [0, max]: negative, non-finite or
// larger values are clamped there, never converted out of range.
template <class T> T num(const json& j, const char* key, T max = std::numeric_limits<T>::max()) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number())
        return T{};
    if (it->is_number_unsigned())
        return static_cast<T>(std::min<uint64_t>(it->get<uint64_t>(), static_cast<uint64_t>(max)));
    if (it->is_number_integer())
        return it->get<int64_t>() < 0
                   ? T{}
                   : static_cast<T>(std::min<uint64_t>(static_cast<uint64_t>(it->get<int64_t>()),
                                                       static_cast<uint64_t>(max)));
    double v = it->get<double>();
    if (!(v > 0)) // NaN too
        return T{};
    if (v >= static_cast<double>(max))
        return max;
    return static_cast<T>(v);
}

// Sizes and counts a server could sensibly report.
constexpr uint64_t kMaxBytes = 1000000000000000ULL; // 1 PB
constexpr int kMaxContext = 1 << 30;

std::optional<util::Timestamp> time_field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
        return std::nullopt;
    return util::parse_rfc3339(it->get_ref<const std::string&>());
}

ModelDetails parse_details(const json& j) {
    ModelDetails d;
    auto it = j.find("details");
    if (it == j.end() || !it->is_object())
        return d;
    d.parent_model = str(*it, "parent_model");
    d.format = str(*it, "format");
    d.family = str(*it, "family");
    d.parameter_size = str(*it, "parameter_size");
    d.quantization_level = str(*it, "quantization_level");
    if (auto f = it->find("families"); f != it->end() && f->is_array())
        for (const auto& x : *f)
            if (x.is_string() && d.families.size() < 64)
                d.families.push_back(util::printable(util::shorten(x.get<std::string>(), 256)));
    return d;
}

const json& models_array(const json& j, std::string_view what) {
    static const json empty = json::array();
    if (!j.is_object())
        throw Error(ErrorKind::Protocol, "unexpected answer to " + std::string(what));
    auto it = j.find("models");
    if (it == j.end() || it->is_null())
        return empty; // Ollama sends {"models":[]} but tolerate a missing list
    if (!it->is_array())
        throw Error(ErrorKind::Protocol, "unexpected answer to " + std::string(what));
    return *it;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

} // namespace

std::string normalize_name(std::string_view name) {
    std::string n(name);
    auto slash = n.rfind('/');
    auto colon = n.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash))
        n += ":latest";
    return n;
}

bool same_model(std::string_view a, std::string_view b) {
    return normalize_name(a) == normalize_name(b);
}

std::string parse_version(std::string_view body) {
    json j = parse_json(body, "/api/version");
    std::string v = j.is_object() ? str(j, "version") : "";
    if (v.empty())
        throw Error(ErrorKind::Protocol, "the server's /api/version answer has no version");
    return v;
}

std::vector<InstalledModel> parse_tags(std::string_view body) {
    json j = parse_json(body, "/api/tags");
    std::vector<InstalledModel> out;
    for (const auto& m : models_array(j, "/api/tags")) {
        InstalledModel im;
        im.name = str(m, "name");
        if (im.name.empty())
            im.name = str(m, "model");
        im.digest = str(m, "digest");
        im.size = num<uint64_t>(m, "size", kMaxBytes);
        im.modified_at = time_field(m, "modified_at");
        im.details = parse_details(m);
        out.push_back(std::move(im));
    }
    return out;
}

std::vector<LoadedModel> parse_ps(std::string_view body) {
    json j = parse_json(body, "/api/ps");
    std::vector<LoadedModel> out;
    for (const auto& m : models_array(j, "/api/ps")) {
        LoadedModel lm;
        lm.name = str(m, "name");
        if (lm.name.empty())
            lm.name = str(m, "model");
        lm.digest = str(m, "digest");
        lm.size = num<uint64_t>(m, "size", kMaxBytes);
        lm.size_vram = std::min(num<uint64_t>(m, "size_vram", kMaxBytes), lm.size);
        lm.context_length = num<int>(m, "context_length", kMaxContext);
        lm.expires_at = time_field(m, "expires_at");
        // Ollama always says when a model expires; an answer that does not,
        // or says it in a form that does not parse, is "unknown", not "Never".
        lm.expiry_reported = lm.expires_at.has_value();
        lm.details = parse_details(m);
        out.push_back(std::move(lm));
    }
    return out;
}

ModelInfo parse_show(std::string_view name, std::string_view body) {
    json j = parse_json(body, "/api/show");
    if (!j.is_object())
        throw Error(ErrorKind::Protocol, "unexpected answer to /api/show");
    ModelInfo info;
    info.name = std::string(name);
    info.details = parse_details(j);
    if (auto c = j.find("capabilities"); c != j.end() && c->is_array())
        for (const auto& x : *c)
            if (x.is_string() && info.capabilities.size() < 64)
                info.capabilities.push_back(
                    util::printable(util::shorten(x.get<std::string>(), 256)));
    if (auto mi = j.find("model_info"); mi != j.end() && mi->is_object())
        info.model_info = *mi;
    info.modified_at = time_field(j, "modified_at");
    return info;
}

std::string generate_body(const GenerateRequest& r) {
    json j = {{"model", r.model}, {"prompt", r.prompt}, {"stream", r.stream}};
    if (r.keep_alive) {
        double secs = r.keep_alive->json_seconds();
        if (secs == static_cast<double>(static_cast<long long>(secs)))
            j["keep_alive"] = static_cast<long long>(secs);
        else
            j["keep_alive"] = secs;
    }
    if (r.options.is_object() && !r.options.empty())
        j["options"] = r.options;
    if (r.num_ctx > 0)
        j["options"]["num_ctx"] = r.num_ctx;
    if (r.num_predict >= 0)
        j["options"]["num_predict"] = r.num_predict;
    return j.dump();
}

GenerateChunk parse_generate_line(std::string_view line, std::string_view model) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw Error(ErrorKind::Protocol, "malformed line in the generate stream: " +
                                             error_message(0, line.substr(0, 80)));
    if (auto e = j.find("error"); e != j.end()) {
        std::string msg = util::printable(
            util::shorten(e->is_string() ? e->get<std::string>() : e->dump(), 1000));
        // A mid-stream error line carries no status; classify by its text.
        Error mapped = map_error(500, line, model, "");
        if (mapped.kind() == ErrorKind::OutOfMemory)
            throw mapped;
        throw Error(ErrorKind::Failed, "the server reported an error during generation: " + msg);
    }
    GenerateChunk c;
    // The answer's text as the model wrote it: whoever prints it escapes it
    // (util::PrintableStream), since newlines and tabs belong to it.
    if (auto r = j.find("response"); r != j.end() && r->is_string())
        c.response = r->get<std::string>();
    auto done = j.find("done");
    c.done = done != j.end() && done->is_boolean() && done->get<bool>();
    if (c.done) {
        // Counts and nanoseconds as a server could sensibly send them: a
        // trillion tokens, 115 days (store::kMaxTokens, kMaxSeconds).
        constexpr int64_t tokens = 1000000000000, ns = 10000000000000000;
        auto& m = c.metrics;
        m.total_duration = num<int64_t>(j, "total_duration", ns);
        m.load_duration = num<int64_t>(j, "load_duration", ns);
        m.prompt_eval_count = num<int64_t>(j, "prompt_eval_count", tokens);
        m.prompt_eval_duration = num<int64_t>(j, "prompt_eval_duration", ns);
        m.eval_count = num<int64_t>(j, "eval_count", tokens);
        m.eval_duration = num<int64_t>(j, "eval_duration", ns);
        m.done_reason = str(j, "done_reason");
    }
    return c;
}

PullProgress parse_pull_line(std::string_view line, std::string_view model,
                             std::string_view address) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw Error(ErrorKind::Protocol,
                    "malformed line in the pull stream: " + error_message(0, line.substr(0, 80)));
    if (auto e = j.find("error"); e != j.end())
        throw pull_error(util::printable(util::shorten(
                             e->is_string() ? e->get<std::string>() : e->dump(), 1000)),
                         model, address);
    PullProgress p;
    p.status = str(j, "status");
    p.digest = str(j, "digest");
    p.total = num<uint64_t>(j, "total");
    p.completed = num<uint64_t>(j, "completed"); // absent until some of the layer arrived
    return p;
}

Error pull_error(const std::string& message, std::string_view model, std::string_view address) {
    std::string m(model);
    std::string where = address.empty() ? "" : " at " + std::string(address);
    std::string l = lower(message);
    // server/images.go PullModel wraps the registry's 404 for the manifest.
    if (l.find("pull model manifest") != std::string::npos &&
        l.find("file does not exist") != std::string::npos)
        return Error(ErrorKind::NotFound, "no model '" + m + "' in the registry (" + message + ")",
                     "check the name and tag at https://ollama.com/library");
    if (l.find("no space left on device") != std::string::npos)
        return Error(ErrorKind::Failed,
                     "the server" + where + " ran out of disk space pulling '" + m +
                         "': " + message,
                     "free space where the server keeps its models (OLLAMA_MODELS), e.g. "
                     "modelctl gc --versions; the pull resumes where it stopped");
    return Error(ErrorKind::Failed, "pulling '" + m + "' failed" + where + ": " + message,
                 "pull again: the server resumes a pull where it stopped");
}

std::string error_message(int status, std::string_view body) {
    json j = json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
        if (auto e = j.find("error"); e != j.end())
            return util::printable(
                util::shorten(e->is_string() ? e->get<std::string>() : e->dump(), 1000));
    }
    std::string s;
    for (char c : body)
        s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    while (!s.empty() && s.back() == ' ')
        s.pop_back();
    while (!s.empty() && s.front() == ' ')
        s.erase(0, 1);
    s = util::printable(util::shorten(s, 200));
    if (s.empty())
        return status ? "HTTP " + std::to_string(status) : "(empty)";
    return s;
}

Error map_error(int status, std::string_view body, std::string_view model,
                std::string_view address) {
    std::string msg = error_message(status, body);
    std::string m(model);
    std::string where = address.empty() ? "" : " at " + std::string(address);
    std::string l = lower(msg);
    if (status == 404) {
        if (!m.empty())
            return Error(ErrorKind::NotFound,
                         "model '" + m + "' is not installed on the server" + where,
                         "pull it first: modelctl pull " + m);
        return Error(ErrorKind::Protocol, "the server" + where + " answered 404 (" + msg + ")",
                     "is this an Ollama server? Check --host or OLLAMA_HOST");
    }
    if (status == 503)
        return Error(ErrorKind::Busy, "the server" + where + " is busy: " + msg,
                     "try again later, or raise OLLAMA_MAX_QUEUE on the server");
    static constexpr const char* oom_markers[] = {
        "out of memory",     "requires more system memory", "insufficient memory",
        "cudamalloc failed", "unable to allocate",          "not enough memory",
        "failed to allocate"};
    if (status >= 500)
        for (const char* marker : oom_markers)
            if (l.find(marker) != std::string::npos)
                return Error(ErrorKind::OutOfMemory,
                             "out of memory loading '" + m + "'" + where + ": " + msg,
                             "unload other models first (modelctl unload --all) or use a "
                             "smaller model or quantization");
    if (status == 400)
        return Error(ErrorKind::Failed, "the server" + where + " rejected the request: " + msg);
    return Error(ErrorKind::Failed,
                 "the server" + where + " failed (HTTP " + std::to_string(status) + "): " + msg);
}

} // namespace core::provider::ollama

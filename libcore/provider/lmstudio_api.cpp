#include "provider/lmstudio_api.hpp"

#include "provider/ollama_api.hpp"
#include "util/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace core::provider::lmstudio {

using nlohmann::json;

namespace {

json parse_json(std::string_view body, std::string_view what) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded())
        throw Error(ErrorKind::Protocol,
                    "LM Studio's answer to " + std::string(what) +
                        " is not valid JSON: " + error_message(0, body.substr(0, 80)));
    return j;
}

// A string field; null, absent or another type reads as "".
// Control characters escaped and the length bounded: it may be printed.
std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
        return {};
    return util::printable(util::shorten(it->get_ref<const std::string&>(), 4096));
}

// A count or size from the server, clamped to [0, 10^15]: never an
// out-of-range float-to-int conversion.
int64_t integer(const json& j, const char* key) {
    constexpr int64_t kMax = 1000000000000000;
    auto it = j.find(key);
    if (it == j.end() || !it->is_number())
        return 0;
    if (it->is_number_unsigned())
        return static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), kMax));
    if (it->is_number_integer())
        return std::clamp<int64_t>(it->get<int64_t>(), 0, kMax);
    double v = it->get<double>();
    if (!(v > 0))
        return 0;
    return v >= static_cast<double>(kMax) ? kMax : static_cast<int64_t>(v);
}

// A context length, within [0, 2^30].
int context_of(const json& j, const char* key) {
    return static_cast<int>(std::min<int64_t>(integer(j, key), 1 << 30));
}

// A finite number in [0, 10^15] (0 otherwise).
double number(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number())
        return 0.0;
    double v = it->get<double>();
    return std::isfinite(v) && v > 0 ? std::min(v, 1e15) : 0.0;
}

bool truthy(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return false;
    if (it->is_boolean())
        return it->get<bool>();
    return it->is_object() || it->is_array() || it->is_string(); // {"allowed_options": ...}
}

const json& array_field(const json& j, const char* key, std::string_view what) {
    if (!j.is_object())
        throw Error(ErrorKind::Protocol,
                    "unexpected answer from LM Studio to " + std::string(what));
    auto it = j.find(key);
    if (it == j.end() || !it->is_array())
        throw Error(ErrorKind::Protocol,
                    "LM Studio's answer to " + std::string(what) + " has no \"" + key + "\" list");
    return *it;
}

void add(std::vector<std::string>& caps, const char* c) {
    if (std::find(caps.begin(), caps.end(), c) == caps.end())
        caps.emplace_back(c);
}

LoadedModel instance_of(const Model& m, std::string id, int context_length) {
    LoadedModel l;
    l.name = m.installed.name;
    l.instance_id = std::move(id);
    l.size = m.installed.size; // the file: LM Studio reports no memory figure
    l.size_reported = false;
    l.expiry_reported = false;
    l.context_length = context_length;
    l.details = m.installed.details;
    return l;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

} // namespace

std::vector<Model> parse_models_v1(std::string_view body) {
    json j = parse_json(body, "GET /api/v1/models");
    std::vector<Model> out;
    for (const auto& e : array_field(j, "models", "GET /api/v1/models")) {
        if (!e.is_object() || str(e, "key").empty())
            throw Error(ErrorKind::Protocol, "a model in LM Studio's list has no key");
        Model m;
        m.type = str(e, "type");
        m.installed.name = str(e, "key");
        m.installed.size = static_cast<uint64_t>(integer(e, "size_bytes"));
        auto& d = m.installed.details;
        d.format = str(e, "format");
        d.family = str(e, "architecture");
        if (!d.family.empty())
            d.families = {d.family};
        d.parameter_size = str(e, "params_string");
        if (auto q = e.find("quantization"); q != e.end() && q->is_object())
            d.quantization_level = str(*q, "name");
        m.max_context_length = context_of(e, "max_context_length");
        if (m.type == "embedding") {
            add(m.capabilities, "embedding");
        } else {
            add(m.capabilities, "completion");
            if (auto c = e.find("capabilities"); c != e.end() && c->is_object()) {
                if (truthy(*c, "vision"))
                    add(m.capabilities, "vision");
                if (truthy(*c, "trained_for_tool_use"))
                    add(m.capabilities, "tools");
                if (truthy(*c, "reasoning"))
                    add(m.capabilities, "thinking");
            }
        }
        if (auto li = e.find("loaded_instances"); li != e.end() && li->is_array())
            for (const auto& i : *li) {
                if (!i.is_object())
                    continue;
                int ctx = 0;
                if (auto c = i.find("config"); c != i.end() && c->is_object())
                    ctx = context_of(*c, "context_length");
                std::string id = str(i, "id");
                m.instances.push_back(instance_of(m, id.empty() ? m.installed.name : id, ctx));
            }
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<Model> parse_models_v0(std::string_view body) {
    json j = parse_json(body, "GET /api/v0/models");
    std::vector<Model> out;
    for (const auto& e : array_field(j, "data", "GET /api/v0/models")) {
        if (!e.is_object() || str(e, "id").empty())
            throw Error(ErrorKind::Protocol, "a model in LM Studio's list has no id");
        Model m;
        m.type = str(e, "type");
        m.installed.name = str(e, "id");
        auto& d = m.installed.details;
        d.format = str(e, "compatibility_type");
        d.family = str(e, "arch");
        if (!d.family.empty())
            d.families = {d.family};
        d.quantization_level = str(e, "quantization");
        m.max_context_length = context_of(e, "max_context_length");
        if (m.type == "embeddings" || m.type == "embedding") {
            add(m.capabilities, "embedding");
        } else {
            add(m.capabilities, "completion");
            if (m.type == "vlm")
                add(m.capabilities, "vision");
            if (auto c = e.find("capabilities"); c != e.end() && c->is_array())
                for (const auto& x : *c)
                    if (x.is_string() && x.get<std::string>() == "tool_use")
                        add(m.capabilities, "tools");
        }
        if (str(e, "state") == "loaded")
            m.instances.push_back(
                instance_of(m, m.installed.name, context_of(e, "loaded_context_length")));
        out.push_back(std::move(m));
    }
    return out;
}

std::string load_body(const std::string& model, int context_length) {
    json j = {{"model", model}};
    if (context_length > 0)
        j["context_length"] = context_length;
    return j.dump();
}

LoadAnswer parse_load(std::string_view body) {
    json j = parse_json(body, "POST /api/v1/models/load");
    if (!j.is_object())
        throw Error(ErrorKind::Protocol, "unexpected answer from LM Studio to a load");
    LoadAnswer a;
    a.instance_id = str(j, "instance_id");
    if (a.instance_id.empty())
        a.instance_id = str(j, "model_instance_id");
    if (a.instance_id.empty())
        throw Error(ErrorKind::Protocol, "LM Studio's load answer names no instance_id");
    a.load_time_seconds = number(j, "load_time_seconds");
    return a;
}

std::string unload_body(const std::string& instance_id) {
    return json{{"instance_id", instance_id}}.dump();
}

std::string download_body(const std::string& model) {
    return json{{"model", model}}.dump();
}

DownloadStatus parse_download(std::string_view body) {
    json j = parse_json(body, "a download request");
    auto bad = [](const std::string& why) {
        return Error(ErrorKind::Protocol, "unexpected answer from LM Studio to a download: " + why);
    };
    if (!j.is_object())
        throw bad("not an object");
    using State = DownloadStatus::State;
    static const std::pair<const char*, State> states[] = {
        {"downloading", State::Downloading},
        {"paused", State::Paused},
        {"completed", State::Completed},
        {"failed", State::Failed},
        {"already_downloaded", State::AlreadyDownloaded}};
    std::string status = str(j, "status");
    DownloadStatus out;
    auto it = std::find_if(std::begin(states), std::end(states),
                           [&](const auto& s) { return status == s.first; });
    if (it == std::end(states))
        throw bad("status '" + status + "'");
    out.state = it->second;
    out.job_id = str(j, "job_id");
    if (out.job_id.empty() && out.state != State::AlreadyDownloaded)
        throw bad("no job_id");
    // It goes into a URL path: only what LM Studio's ids are made of.
    for (char c : out.job_id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
            throw bad("job_id '" + out.job_id + "'");
    out.total = static_cast<uint64_t>(integer(j, "total_size_bytes"));
    out.downloaded = static_cast<uint64_t>(integer(j, "downloaded_bytes"));
    if (out.total > 0)
        out.downloaded = std::min(out.downloaded, out.total);
    out.bytes_per_second = number(j, "bytes_per_second");
    return out;
}

std::string chat_body(const GenerateRequest& r) {
    json j = {{"model", r.model}, {"input", r.prompt}, {"stream", false}, {"store", false}};
    if (r.num_predict >= 0)
        j["max_output_tokens"] = r.num_predict;
    if (r.num_ctx > 0)
        j["context_length"] = r.num_ctx;
    for (const char* k : {"temperature", "top_p"}) // what /api/v1/chat takes of Ollama's options
        if (r.options.is_object() && r.options.contains(k) && r.options[k].is_number())
            j[k] = r.options[k];
    return j.dump();
}

ChatAnswer parse_chat(std::string_view body) {
    json j = parse_json(body, "POST /api/v1/chat");
    ChatAnswer a;
    for (const auto& item : array_field(j, "output", "POST /api/v1/chat"))
        if (item.is_object() && str(item, "type") == "message")
            // The answer as the model wrote it (escaped by whoever prints it).
            if (auto c = item.find("content"); c != item.end() && c->is_string())
                a.text += c->get<std::string>();
    auto s = j.find("stats");
    if (s == j.end() || !s->is_object())
        return a;
    auto& m = a.metrics;
    m.prompt_eval_count = integer(*s, "input_tokens");
    m.eval_count = integer(*s, "total_output_tokens");
    double tps = number(*s, "tokens_per_second");
    double ttft = number(*s, "time_to_first_token_seconds");
    if (tps > 0)
        m.eval_duration = static_cast<int64_t>(static_cast<double>(m.eval_count) / tps * 1e9);
    m.prompt_eval_duration = static_cast<int64_t>(ttft * 1e9);
    m.total_duration = m.prompt_eval_duration + m.eval_duration;
    m.done_reason = "stop";
    return a;
}

std::string embeddings_body(const std::string& model, const std::vector<std::string>& input) {
    return json{{"model", model}, {"input", input}}.dump();
}

EmbedResult parse_embeddings(std::string_view body) {
    json j = parse_json(body, "POST /v1/embeddings");
    EmbedResult r;
    const auto& data = array_field(j, "data", "POST /v1/embeddings");
    r.vectors = data.size();
    if (!data.empty() && data[0].is_object())
        if (auto e = data[0].find("embedding"); e != data[0].end() && e->is_array())
            r.dimensions = e->size();
    if (auto u = j.find("usage"); u != j.end() && u->is_object())
        r.prompt_eval_count = integer(*u, "prompt_tokens");
    return r;
}

std::string error_message(int status, std::string_view body) {
    json j = json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object())
        if (auto e = j.find("error"); e != j.end()) {
            if (e->is_string())
                return util::printable(util::shorten(e->get<std::string>(), 1000));
            if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
                return util::printable(util::shorten((*e)["message"].get<std::string>(), 1000));
        }
    return ollama::error_message(status, body);
}

Error map_error(int status, std::string_view body, std::string_view model, std::string_view address,
                std::string_view token_env, bool token_sent) {
    std::string msg = error_message(status, body);
    std::string m(model);
    std::string where = " at " + std::string(address);
    std::string l = lower(msg);
    if (status == 401 || status == 403)
        return Error(ErrorKind::Unauthorized,
                     "LM Studio" + where + ": unauthorized (HTTP " + std::to_string(status) +
                         "): " + msg,
                     token_sent ? "the token in $" + std::string(token_env) +
                                      " was sent and refused: check it against LM Studio's "
                                      "Developer > Server Settings"
                                : "set " + std::string(token_env) +
                                      " to an API token from LM Studio's Developer > Server "
                                      "Settings");
    bool not_found = status == 404 || l.find("not found") != std::string::npos ||
                     l.find("no model") != std::string::npos;
    if (not_found && !m.empty())
        return Error(ErrorKind::NotFound, "model '" + m + "' is not installed in LM Studio" + where,
                     "download it first: lms get " + m);
    if (status == 404)
        return Error(ErrorKind::Protocol, "LM Studio" + where + " answered 404 (" + msg + ")",
                     "is this an LM Studio server? Check the endpoint's url");
    if (status == 503)
        return Error(ErrorKind::Busy, "LM Studio" + where + " is busy: " + msg, "try again later");
    for (const char* marker : {"out of memory", "insufficient", "not enough memory",
                               "failed to allocate", "exceeds available"})
        if (l.find(marker) != std::string::npos)
            return Error(ErrorKind::OutOfMemory,
                         "out of memory loading '" + m + "'" + where + ": " + msg,
                         "unload other models first (modelctl unload --all) or use a smaller "
                         "model or quantization");
    return Error(ErrorKind::Failed,
                 "LM Studio" + where + " failed (HTTP " + std::to_string(status) + "): " + msg);
}

} // namespace core::provider::lmstudio

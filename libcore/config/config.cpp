#include "config/config.hpp"

#include "error.hpp"
#include "util/file.hpp"
#include "util/size.hpp"
#include "util/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace core::config {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string source_name(Source s) {
    switch (s) {
    case Source::Default:
        return "default";
    case Source::File:
        return "file";
    case Source::Environment:
        return "env";
    case Source::Flag:
        return "flag";
    case Source::Store:
        return "store";
    }
    return "?";
}

fs::path default_path(const Environment& env) {
    if (auto x = env.get_nonempty("XDG_CONFIG_HOME"); x && fs::path(*x).is_absolute())
        return fs::path(*x) / "modelctl" / "config.json";
    if (auto h = env.get_nonempty("HOME"))
        return fs::path(*h) / ".config" / "modelctl" / "config.json";
    return {};
}

namespace {

// Value parsers: throw std::invalid_argument with the reason.
util::Seconds duration(const std::string& v) {
    auto d = util::parse_duration(v);
    if (!d)
        throw std::invalid_argument("'" + v + "' is not a duration of at most " +
                                    util::kMaxDurationText + " (e.g. 30s, 30m, 2h)");
    return *d;
}

util::Seconds positive_duration(const std::string& v) {
    auto d = duration(v);
    if (d.count() <= 0)
        throw std::invalid_argument("'" + v + "' must be more than 0");
    return d;
}

util::KeepAlive keep_alive(const std::string& v) {
    auto k = util::parse_keep_alive(v);
    if (!k)
        throw std::invalid_argument("'" + v + "' is not a keep-alive of at most " +
                                    util::kMaxDurationText + " (e.g. 30m, 2h, forever)");
    return *k;
}

uint64_t size(const std::string& v) {
    auto s = util::parse_size(v);
    if (!s)
        throw std::invalid_argument("'" + v + "' is not a size (e.g. 24GB, 512MiB)");
    return *s;
}

long integer(const std::string& v, long lo, long hi) {
    long n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi)
        throw std::invalid_argument("'" + v + "' is not a whole number from " + std::to_string(lo) +
                                    " to " + std::to_string(hi));
    return n;
}

double percent(const std::string& v) {
    double x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size() || !(x > 0 && x <= 100))
        throw std::invalid_argument("'" + v + "' is not a percentage above 0, at most 100");
    return x;
}

bool boolean(const std::string& v) {
    if (v == "true" || v == "1" || v == "yes")
        return true;
    if (v == "false" || v == "0" || v == "no")
        return false;
    throw std::invalid_argument("'" + v + "' is not true or false");
}

struct Key {
    const char* name;
    const char* default_text; // "" = unset
    const char* help;
    std::function<void(Config&, const std::string&)> set;
};

const std::vector<Key>& table() {
    static const std::vector<Key> t{
        {"host", "", "server address, as OLLAMA_HOST (env: OLLAMA_HOST)",
         [](Config& c, const std::string& v) { c.host = v; }},
        {"endpoint", "", "the endpoint commands use, by name (unset: the first configured)",
         [](Config& c, const std::string& v) { c.endpoint = v; }},
        {"timeout", "5m", "longest wait for one server answer",
         [](Config& c, const std::string& v) { c.timeout = positive_duration(v); }},
        {"lock_timeout", "10s", "longest wait for the store lock held by another modelctl",
         [](Config& c, const std::string& v) { c.lock_timeout = positive_duration(v); }},
        {"history.max_log_size", "16MB",
         "events.jsonl is rotated to events.1.jsonl past this size (summaries are kept)",
         [](Config& c, const std::string& v) {
             c.max_log_bytes = size(v);
             if (c.max_log_bytes < 4000)
                 throw std::invalid_argument("'" + v + "' is too small (at least 4KB)");
         }},
        {"keep_alive", "", "keep-alive sent with loads (unset: the server's default)",
         [](Config& c, const std::string& v) { c.keep_alive = keep_alive(v); }},
        {"idle_timeout", "30m", "gc unloads models idle longer than this (0: never)",
         [](Config& c, const std::string& v) { c.idle_timeout = duration(v); }},
        {"num_ctx", "4096", "context length assumed for memory estimates",
         [](Config& c, const std::string& v) {
             c.num_ctx = static_cast<int>(integer(v, 1, 16 * 1024 * 1024));
         }},
        {"keep_versions", "2",
         "versions of a model gc --versions keeps installed, the current one included",
         [](Config& c, const std::string& v) {
             c.keep_versions = static_cast<int>(integer(v, 1, 1000));
         }},
        {"budget.memory", "", "memory loaded models may hold, outright (unset: from the probes)",
         [](Config& c, const std::string& v) { c.memory = size(v); }},
        // Ollama's own default (OLLAMA_MAX_LOADED_MODELS = 3): beyond it the
        // server evicts by its own rule, so planning must know the limit.
        {"budget.max_loaded", "3",
         "at most this many models loaded, as the server allows (0: no limit)",
         [](Config& c, const std::string& v) {
             c.max_loaded = static_cast<size_t>(integer(v, 0, 1000));
         }},
        {"budget.gpu.max_memory_percent", "90", "share of each GPU's memory models may hold",
         [](Config& c, const std::string& v) { c.gpu_max_percent = percent(v); }},
        {"budget.gpu.min_free", "1GB", "memory to leave free on each GPU",
         [](Config& c, const std::string& v) { c.gpu_min_free = size(v); }},
        {"budget.ram.max_memory_percent", "75", "share of system RAM models may hold",
         [](Config& c, const std::string& v) { c.ram_max_percent = percent(v); }},
        {"budget.ram.min_free", "4GB", "system RAM to leave free",
         [](Config& c, const std::string& v) { c.ram_min_free = size(v); }},
        {"serve.listen", "127.0.0.1:11435",
         "where modelctl serve listens, HOST:PORT (port 0: any free one)",
         [](Config& c, const std::string& v) { c.serve_listen = v; }},
        {"serve.max_body", "64MiB",
         "largest request body serve reads to find its model (larger: 413)",
         [](Config& c, const std::string& v) {
             c.serve_max_body = size(v);
             if (c.serve_max_body < 1024)
                 throw std::invalid_argument("'" + v + "' is too small (at least 1KiB)");
         }},
        {"serve.max_queue", "64", "requests serve lets wait for a model to load (more: 503)",
         [](Config& c, const std::string& v) {
             c.serve_max_queue = static_cast<size_t>(integer(v, 1, 100000));
         }},
        {"serve.queue_timeout", "2m",
         "longest a request waits for its turn and for busy models to go idle (then 503)",
         [](Config& c, const std::string& v) { c.serve_queue_timeout = positive_duration(v); }},
        {"serve.token_env", "MODELCTL_SERVE_TOKEN",
         "the variable holding the token serve's clients must send (required off loopback)",
         [](Config& c, const std::string& v) { c.serve_token_env = v; }},
        {"serve.admin_token_env", "",
         "the variable holding a token of their own for /modelctl/ and /metrics (unset: the same)",
         [](Config& c, const std::string& v) { c.serve_admin_token_env = v; }},
        {"serve.grace", "30s", "on SIGTERM, how long answers in flight may take to finish",
         [](Config& c, const std::string& v) { c.serve_grace = duration(v); }},
        {"serve.preload", "false",
         "serve loads, at the start of each hour, the models history says are likely in it "
         "(as `modelctl preload`; never evicting)",
         [](Config& c, const std::string& v) { c.serve_preload = boolean(v); }},
        {"serve.interval", "30s",
         "how often serve unloads idle models and looks at memory pressure",
         [](Config& c, const std::string& v) {
             c.serve_interval = positive_duration(v);
             if (c.serve_interval > util::Seconds(86400))
                 throw std::invalid_argument("'" + v + "' is longer than a day");
         }},
        {"memory.vram", "", "the server's GPU memory, when it is not this machine (unset: probed)",
         [](Config& c, const std::string& v) { c.vram = size(v); }},
        {"memory.ram", "", "the server's system RAM, when it is not this machine (unset: probed)",
         [](Config& c, const std::string& v) { c.ram = size(v); }},
    };
    return t;
}

std::string env_name(const std::string& key) {
    if (key == "host")
        return "OLLAMA_HOST";
    std::string n = "MODELCTL_";
    for (char ch : key)
        n += ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return n;
}

std::string text_of(const json& v) {
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_boolean())
        return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer() || v.is_number_unsigned())
        return v.dump();
    if (v.is_number_float()) {
        double d = v.get<double>();
        if (d == std::floor(d) && std::fabs(d) < 1e15)
            return std::to_string(static_cast<long long>(d));
        return v.dump();
    }
    throw std::invalid_argument("expected a string, number or boolean, got " + v.dump());
}

[[noreturn]] void bad(const std::string& origin, const std::string& key, const std::string& why) {
    throw Error(ErrorKind::Usage, origin + ": " + key + ": " + why,
                "modelctl config show lists every key with its current value");
}

// Flattens nested objects into dotted keys, checking each against the table.
void flatten(const json& j, const std::string& prefix, const std::string& origin,
             std::map<std::string, std::string>& out) {
    for (const auto& [k, v] : j.items()) {
        std::string key = prefix.empty() ? k : prefix + "." + k;
        bool known = false, is_prefix = false;
        for (const auto& t : table()) {
            known = known || key == t.name;
            is_prefix = is_prefix || std::string(t.name).rfind(key + ".", 0) == 0;
        }
        if (v.is_object() && is_prefix) {
            flatten(v, key, origin, out);
            continue;
        }
        if (!known)
            throw Error(ErrorKind::Usage, origin + ": unknown key '" + key + "'",
                        "modelctl config show lists the keys");
        try {
            out[key] = text_of(v);
        } catch (const std::invalid_argument& e) {
            bad(origin, key, e.what());
        }
    }
}

HooksConfig hooks_from(const json& j, const std::string& origin) {
    if (!j.is_object())
        bad(origin, "hooks", "expected an object: {\"on_load\": [\"program\", \"arg\", ...], ...}");
    HooksConfig h;
    for (const auto& [k, v] : j.items()) {
        std::string where = "hooks." + k;
        try {
            if (k == "timeout") {
                h.timeout = positive_duration(text_of(v));
                if (h.timeout > util::Seconds(3600))
                    throw std::invalid_argument("'" + text_of(v) + "' is longer than an hour");
            } else if (k == "max_running") {
                h.max_running = static_cast<size_t>(integer(text_of(v), 1, 64));
            } else if (std::find(hook_names().begin(), hook_names().end(), k) !=
                       hook_names().end()) {
                if (!v.is_array() || v.empty())
                    throw std::invalid_argument(
                        "expected a command as a list, e.g. [\"notify-send\", \"modelctl\"]");
                std::vector<std::string> argv;
                for (const auto& a : v) {
                    if (!a.is_string())
                        throw std::invalid_argument("every part of the command must be a string");
                    argv.push_back(a.get<std::string>());
                }
                if (argv[0].empty())
                    throw std::invalid_argument("the program's name is empty");
                h.commands[k] = std::move(argv);
            } else {
                std::string names;
                for (const auto& n : hook_names())
                    names += n + ", ";
                throw Error(ErrorKind::Usage, origin + ": unknown key '" + where + "'",
                            "hooks takes " + names + "timeout and max_running");
            }
        } catch (const std::invalid_argument& e) {
            bad(origin, where, e.what());
        }
    }
    return h;
}

bool valid_endpoint_name(const std::string& n) {
    if (n.empty() || n.size() > 64)
        return false;
    return std::all_of(n.begin(), n.end(), [](unsigned char ch) {
        return std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.';
    });
}

// Each model's `endpoint` names an endpoint there is: one of `endpoints`, or
// with none configured one of the defaults.
void check_model_endpoints(const Config& c, const std::string& origin) {
    std::vector<std::string> names;
    for (const auto& e : c.endpoints)
        names.push_back(e.name);
    if (names.empty())
        names = {"ollama", "lmstudio"};
    for (const auto& [model, m] : c.models)
        if (m.endpoint && std::find(names.begin(), names.end(), *m.endpoint) == names.end()) {
            std::string known;
            for (const auto& n : names)
                known += (known.empty() ? "" : ", ") + n;
            throw Error(ErrorKind::Usage,
                        origin + ": models." + util::printable(model) +
                            ".endpoint: no endpoint is named '" + *m.endpoint + "'",
                        "the endpoints are " + known);
        }
}

// A file that is not JSON: where (line and column of byte `at`, 1-based as
// nlohmann counts it), and the usual slip when the last thing before it is a
// comma.
Error syntax_error(const std::string& origin, const std::string& text, size_t at) {
    auto where = util::json_error_at(text, at);
    return Error(ErrorKind::Usage,
                 origin + ": not valid JSON at line " + std::to_string(where.line) + ", column " +
                     std::to_string(where.column),
                 where.trailing_comma
                     ? "remove the comma before it: JSON allows none after the last item"
                     : "fix the file, or name another with --config");
}

ModelSettings model_settings(const std::string& name, const json& j, const std::string& origin) {
    std::string where = "models." + name;
    if (!j.is_object())
        bad(origin, where, "expected an object of settings");
    ModelSettings m;
    for (const auto& [k, v] : j.items()) {
        try {
            std::string text = text_of(v);
            if (k == "pin")
                m.pin = boolean(text);
            else if (k == "priority")
                m.priority = static_cast<int>(integer(text, 0, 9));
            else if (k == "keep_alive")
                m.keep_alive = keep_alive(text);
            else if (k == "idle_timeout")
                m.idle_timeout = duration(text);
            else if (k == "num_ctx")
                m.num_ctx = static_cast<int>(integer(text, 1, 16 * 1024 * 1024));
            else if (k == "keep_versions")
                m.keep_versions = static_cast<int>(integer(text, 1, 1000));
            else if (k == "endpoint") {
                if (!valid_endpoint_name(text))
                    throw std::invalid_argument("'" + util::printable(text) +
                                                "' is not an endpoint's name");
                m.endpoint = text;
            } else
                throw Error(ErrorKind::Usage, origin + ": unknown key '" + where + "." + k + "'",
                            "a model takes pin, priority, keep_alive, idle_timeout, num_ctx, "
                            "keep_versions, endpoint");
        } catch (const std::invalid_argument& e) {
            bad(origin, where + "." + k, e.what());
        }
    }
    return m;
}

std::vector<EndpointConfig> endpoints_from(const json& j, const std::string& origin) {
    if (!j.is_array())
        bad(origin, "endpoints", "expected a list of {\"name\", \"provider\", \"url\", ...}");
    std::vector<EndpointConfig> out;
    for (size_t i = 0; i < j.size(); ++i) {
        const json& e = j[i];
        std::string where = "endpoints[" + std::to_string(i) + "]";
        if (!e.is_object())
            bad(origin, where, "expected an object");
        EndpointConfig c;
        for (const auto& [k, v] : e.items()) {
            try {
                if (k == "memory") {
                    if (!v.is_object())
                        throw std::invalid_argument("expected {\"vram\": ..., \"ram\": ...}");
                    for (const auto& [mk, mv] : v.items()) {
                        if (mk == "vram")
                            c.vram = size(text_of(mv));
                        else if (mk == "ram")
                            c.ram = size(text_of(mv));
                        else
                            throw std::invalid_argument("unknown key '" + mk +
                                                        "' (memory takes vram and ram)");
                    }
                    continue;
                }
                std::string text = text_of(v);
                if (k == "name")
                    c.name = text;
                else if (k == "provider")
                    c.provider = text;
                else if (k == "url")
                    c.url = text;
                else if (k == "token_env")
                    c.token_env = text;
                else
                    throw Error(ErrorKind::Usage,
                                origin + ": unknown key '" + where + "." + k + "'",
                                "an endpoint takes name, provider, url, token_env, memory");
            } catch (const std::invalid_argument& err) {
                bad(origin, where + "." + k, err.what());
            }
        }
        if (!valid_endpoint_name(c.name))
            bad(origin, where + ".name",
                "'" + c.name + "' is not a name (letters, digits, '-', '_', '.')");
        where = "endpoints." + c.name;
        if (c.provider != "ollama" && c.provider != "lmstudio")
            bad(origin, where + ".provider", "'" + c.provider + "' is not ollama or lmstudio");
        if (c.url.empty())
            bad(origin, where + ".url", "is required (e.g. http://gpu-box:11434)");
        for (const auto& o : out)
            if (o.name == c.name)
                bad(origin, where, "is named twice");
        if (c.token_env.empty() && c.provider == "lmstudio")
            c.token_env = "LM_API_TOKEN";
        out.push_back(std::move(c));
    }
    return out;
}

// The MODELCTL_* variables set that modelctl reads nowhere, each with the
// nearest it does read.
std::vector<std::string> unknown_variables(const Environment& env, const Config& c) {
    std::vector<std::string> known = {"MODELCTL_HOME", "MODELCTL_ENDPOINT", "MODELCTL_SYSROOT",
                                      "MODELCTL_SERVE_TOKEN",
                                      // what serve's hooks set, for a hook that runs modelctl
                                      "MODELCTL_EVENT", "MODELCTL_MODEL", "MODELCTL_REASON",
                                      "MODELCTL_EVENT_ID", "MODELCTL_SERVER"};
    for (const auto& k : table())
        known.push_back(env_name(k.name));
    // Variables the config names as holding tokens.
    known.push_back(c.serve_token_env);
    known.push_back(c.serve_admin_token_env);
    for (const auto& e : c.endpoints)
        known.push_back(e.token_env);
    std::vector<std::string> out;
    for (const auto& [name, value] : env.vars()) {
        if (name.rfind("MODELCTL_", 0) != 0 ||
            std::find(known.begin(), known.end(), name) != known.end())
            continue;
        std::string near = util::closest(name, known);
        out.push_back(util::printable(name) + " is not a variable modelctl reads" +
                      (near.empty() ? "" : " (did you mean " + near + "?)"));
    }
    return out;
}

} // namespace

const std::vector<std::string>& hook_names() {
    static const std::vector<std::string> names = {"on_load",     "on_unload", "on_evict",
                                                   "on_pressure", "on_refuse", "on_failure"};
    return names;
}

std::vector<std::pair<std::string, std::string>> keys() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& k : table())
        out.emplace_back(k.name, k.help);
    return out;
}

Config load(const Environment& env, const std::optional<fs::path>& file,
            const std::map<std::string, Flag>& flags) {
    Config c;
    c.file = file ? *file : default_path(env);
    std::map<std::string, Setting> chosen;
    for (const auto& k : table())
        chosen[k.name] = {k.name, k.default_text, Source::Default, "", k.help};

    if (!c.file.empty()) {
        // A config file is small; one that cannot be read is an error, never
        // taken as absent (the settings in it would silently not apply).
        auto text = util::read_file(c.file, 16ULL << 20, ErrorKind::Usage);
        if (text) {
            c.file_exists = true;
            std::string origin = c.file.string();
            json j;
            try {
                j = json::parse(*text);
            } catch (const json::parse_error& e) {
                throw syntax_error(origin, *text, e.byte);
            }
            if (!j.is_object())
                throw Error(ErrorKind::Usage, origin + ": not a JSON object",
                            "fix the file, or name another with --config");
            std::map<std::string, std::string> values;
            json rest = j;
            rest.erase("models");
            rest.erase("endpoints");
            rest.erase("hooks");
            flatten(rest, "", origin, values);
            for (const auto& [k, v] : values)
                chosen[k] = {k, v, Source::File, origin, chosen[k].help};
            if (j.contains("endpoints"))
                c.endpoints = endpoints_from(j["endpoints"], origin);
            if (j.contains("hooks"))
                c.hooks = hooks_from(j["hooks"], origin);
            if (j.contains("models")) {
                if (!j["models"].is_object())
                    bad(origin, "models", "expected an object keyed by model name");
                for (const auto& [name, v] : j["models"].items())
                    c.models[name] = model_settings(name, v, origin);
                check_model_endpoints(c, origin);
            }
        } else if (file) {
            throw Error(ErrorKind::Usage, "cannot read the config file " + file->string(),
                        "check the path given to --config");
        }
    }
    for (const auto& k : table()) {
        std::string var = env_name(k.name);
        if (auto v = env.get_nonempty(var))
            chosen[k.name] = {k.name, *v, Source::Environment, var, k.help};
    }
    for (const auto& [key, flag] : flags) {
        if (!chosen.count(key))
            throw Error(ErrorKind::Failed, "internal: flag " + flag.name + " has no key " + key);
        chosen[key] = {key, flag.value, Source::Flag, flag.name, chosen[key].help};
    }
    for (const auto& k : table()) {
        Setting& s = chosen[k.name];
        if (!s.value.empty()) {
            try {
                k.set(c, s.value);
            } catch (const std::invalid_argument& e) {
                if (s.source == Source::Flag) // "--keep-alive: 'soon' is not ..."
                    throw Error(ErrorKind::Usage, s.origin + ": " + e.what());
                bad(s.source == Source::Default ? "default" : s.origin, k.name, e.what());
            }
        }
        c.settings.push_back(s);
    }
    c.warnings = unknown_variables(env, c);
    return c;
}

} // namespace core::config

#include "provider/ollama.hpp"

#include "error.hpp"
#include "provider/ollama_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <thread>

namespace core::provider {

using nlohmann::json;

Ollama::Ollama(http::Endpoint endpoint, OllamaOptions options)
    : client_(std::move(endpoint), options.timeouts, options.token, options.unreachable_hint),
      options_(options), rng_(options.seed) {}

void Ollama::backoff(int attempt) {
    // "Equal jitter": half the exponential step fixed, half random, so that
    // several clients rejected together do not retry together.
    auto step = std::min(options_.backoff_cap.count(), options_.backoff_base.count() << attempt);
    std::uniform_int_distribution<long long> jitter(0, step / 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(step / 2 + jitter(rng_)));
}

http::Response Ollama::call(const char* method, const std::string& path, const std::string& body,
                            const std::string& model) {
    for (int attempt = 0;; ++attempt) {
        http::Response r =
            std::string_view(method) == "GET" ? client_.get(path) : client_.post_json(path, body);
        if (r.status >= 200 && r.status < 300)
            return r;
        if (r.status == 503 && attempt < options_.busy_retries) {
            backoff(attempt);
            continue;
        }
        Error e = ollama::map_error(r.status, r.body, model, address());
        if (e.kind() == ErrorKind::Busy)
            throw Error(ErrorKind::Busy,
                        std::string(e.what()) + " (gave up after " + std::to_string(attempt + 1) +
                            " attempts)",
                        e.hint());
        throw e;
    }
}

std::string Ollama::canonical(std::string_view name) const {
    return ollama::normalize_name(name);
}

std::string Ollama::version() {
    return ollama::parse_version(call("GET", "/api/version", "", "").body);
}

std::vector<InstalledModel> Ollama::installed() {
    return ollama::parse_tags(call("GET", "/api/tags", "", "").body);
}

std::vector<LoadedModel> Ollama::loaded() {
    return ollama::parse_ps(call("GET", "/api/ps", "", "").body);
}

ModelInfo Ollama::show(const std::string& model) {
    std::string body = json{{"model", model}}.dump();
    return ollama::parse_show(model, call("POST", "/api/show", body, model).body);
}

void Ollama::load(const std::string& model, const LoadSettings& settings) {
    // docs/api.md "Load a model": an empty prompt loads the model and answers
    // once it is in memory, with done_reason "load".
    GenerateRequest req{model, "", settings.keep_alive, false, settings.num_ctx};
    try {
        auto r = call("POST", "/api/generate", ollama::generate_body(req), model);
        ollama::parse_generate_line(r.body, model);
    } catch (const Error& e) {
        // server/routes.go GenerateHandler answers 400 "\"name\" does not
        // support generate" for a model without the completion capability
        // (an embedding model), even for an empty prompt; EmbedHandler loads
        // any model when the input is empty.
        if (std::string_view(e.what()).find("does not support generate") == std::string_view::npos)
            throw;
        embed(model, {}, settings);
    }
}

EmbedResult Ollama::embed(const std::string& model, const std::vector<std::string>& input,
                          const LoadSettings& settings) {
    json body = {{"model", model}, {"input", input}};
    if (settings.keep_alive)
        body["keep_alive"] = settings.keep_alive->json_seconds();
    if (settings.num_ctx > 0)
        body["options"] = {{"num_ctx", settings.num_ctx}};
    auto r = call("POST", "/api/embed", body.dump(), model);
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("embeddings") ||
        !j["embeddings"].is_array())
        throw Error(ErrorKind::Protocol,
                    "the embed answer from " + address() + " has no embeddings list");
    EmbedResult out;
    const auto& e = j["embeddings"];
    out.vectors = e.size();
    out.dimensions = !e.empty() && e[0].is_array() ? e[0].size() : 0;
    out.total_duration = j.value("total_duration", int64_t{0});
    out.load_duration = j.value("load_duration", int64_t{0});
    out.prompt_eval_count = j.value("prompt_eval_count", int64_t{0});
    return out;
}

void Ollama::unload(const std::string& model) {
    // docs/api.md "Unload a model": keep_alive 0 answers at once with
    // done_reason "unload"; the runner stops afterwards, so /api/ps lists the
    // model as stopping for a while. Poll it, backing off, until it is gone.
    GenerateRequest req{model, "", util::KeepAlive{false, util::Seconds(0)}, false};
    auto r = call("POST", "/api/generate", ollama::generate_body(req), model);
    ollama::parse_generate_line(r.body, model);

    using clock = std::chrono::steady_clock;
    auto deadline = clock::now() + options_.unload_wait;
    auto wait = std::chrono::milliseconds(10);
    for (;;) {
        auto models = loaded();
        bool present = std::any_of(models.begin(), models.end(), [&](const LoadedModel& m) {
            return ollama::same_model(m.name, model);
        });
        if (!present)
            return;
        if (clock::now() + wait > deadline)
            throw Error(ErrorKind::Failed,
                        "'" + model + "' is still in memory " +
                            std::to_string(options_.unload_wait.count() / 1000) +
                            "s after the unload request",
                        "the server may be busy with a request to it; try again");
        std::this_thread::sleep_for(wait);
        wait = std::min(wait * 2, std::chrono::milliseconds(500));
    }
}

void Ollama::pull(const std::string& model,
                  const std::function<bool(const PullProgress&)>& on_progress) {
    // docs/api.md "Pull a Model": progress lines, the last {"status":
    // "success"}; an error once streaming has begun is an {"error"} line.
    std::string body = json{{"model", model}, {"stream", true}}.dump();
    for (int attempt = 0;; ++attempt) {
        http::LineSplitter lines(address());
        bool success = false;
        bool stopped = false;
        auto take = [&](std::string_view line) {
            auto p = ollama::parse_pull_line(line, model, address());
            success = p.status == "success";
            if (!on_progress(p))
                stopped = true;
        };
        std::optional<Error> failed;
        auto r = client_.post_json_stream("/api/pull", body, [&](std::string_view chunk) {
            try {
                lines.feed(chunk, take);
            } catch (const Error& e) {
                failed = e; // rethrown below, once the transfer is over
                return false;
            }
            return !stopped;
        });
        if (failed)
            throw *failed;
        if (stopped)
            throw Error(ErrorKind::Interrupted, "the pull of '" + model + "' was interrupted");
        if (r.status == 503 && attempt < options_.busy_retries) {
            backoff(attempt);
            continue;
        }
        if (r.status < 200 || r.status >= 300) {
            if (r.status == 400)
                throw Error(ErrorKind::Usage,
                            "the server at " + address() + " refused the name '" + model +
                                "': " + ollama::error_message(r.status, r.body),
                            "names are [namespace/]model[:tag], letters, digits, '_', '-', '.'");
            throw ollama::map_error(r.status, r.body, model, address());
        }
        lines.finish(take); // the last line need not end with a newline
        if (!success)
            throw Error(ErrorKind::Protocol,
                        "the pull stream from " + address() + " ended before its \"success\" line",
                        "pull again: the server resumes a pull where it stopped");
        return;
    }
}

void Ollama::copy(const std::string& source, const std::string& destination) {
    // docs/api.md "Copy a Model": 200 with no body; 404 for a missing source.
    call("POST", "/api/copy", json{{"source", source}, {"destination", destination}}.dump(),
         source);
}

void Ollama::remove(const std::string& model) {
    // docs/api.md "Delete a Model": DELETE with {"model"}; 404 when not installed.
    auto r = client_.delete_json("/api/delete", json{{"model", model}}.dump());
    if (r.status < 200 || r.status >= 300)
        throw ollama::map_error(r.status, r.body, model, address());
}

GenerateMetrics Ollama::generate(const GenerateRequest& request,
                                 const std::function<void(std::string_view)>& on_text) {
    std::string body = ollama::generate_body(request);
    for (int attempt = 0;; ++attempt) {
        http::LineSplitter lines(address());
        GenerateMetrics metrics;
        bool done = false;
        auto take = [&](std::string_view line) {
            auto c = ollama::parse_generate_line(line, request.model);
            if (!c.response.empty())
                on_text(c.response);
            if (c.done) {
                done = true;
                metrics = c.metrics;
            }
        };
        auto r = client_.post_json_stream("/api/generate", body, [&](std::string_view chunk) {
            lines.feed(chunk, take);
            return true;
        });
        if (r.status == 503 && attempt < options_.busy_retries) {
            backoff(attempt);
            continue;
        }
        if (r.status < 200 || r.status >= 300)
            throw ollama::map_error(r.status, r.body, request.model, address());
        lines.finish(take); // the last line need not end with a newline
        if (!done)
            throw Error(ErrorKind::Protocol,
                        "the generate stream from " + address() + " ended before its final line");
        return metrics;
    }
}

} // namespace core::provider

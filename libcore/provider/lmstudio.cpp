#include "provider/lmstudio.hpp"

#include "error.hpp"
#include "util/interrupt.hpp"
#include "util/size.hpp"

#include <algorithm>
#include <thread>

namespace core::provider {

LmStudio::LmStudio(http::Endpoint endpoint, LmStudioOptions options)
    : client_(std::move(endpoint), options.timeouts, options.token,
              "is LM Studio's server running (lms server start)? Check the endpoint's url"),
      options_(std::move(options)) {}

http::Response LmStudio::call(const char* method, const std::string& path, const std::string& body,
                              const std::string& model) {
    greet();
    http::Response r =
        std::string_view(method) == "GET" ? client_.get(path) : client_.post_json(path, body);
    if (r.status >= 200 && r.status < 300)
        return r;
    throw lmstudio::map_error(r.status, r.body, model, address(), options_.token_env,
                              !options_.token.empty());
}

void LmStudio::greet() {
    if (greeted_ || !options_.greet_first)
        return;
    if (!greets(client_.endpoint(), client_.timeouts()))
        throw Error(ErrorKind::Unreachable,
                    "the server at " + address() +
                        " does not answer as LM Studio (GET /lmstudio-greeting); $" +
                        options_.token_env + " was not sent to it",
                    "configure an lmstudio endpoint with its url to use it anyway");
    greeted_ = true;
}

std::vector<lmstudio::Model> LmStudio::list() {
    greet();
    if (v1_.value_or(true)) {
        http::Response r = client_.get("/api/v1/models");
        if (r.status >= 200 && r.status < 300) {
            v1_ = true;
            return lmstudio::parse_models_v1(r.body);
        }
        if (r.status != 404 || v1_)
            throw lmstudio::map_error(r.status, r.body, "", address(), options_.token_env,
                                      !options_.token.empty());
        v1_ = false; // before LM Studio 0.4: only the beta REST API
    }
    return lmstudio::parse_models_v0(call("GET", "/api/v0/models", "", "").body);
}

void LmStudio::require_v1(const std::string& what, const std::string& hint) const {
    if (!v1_.value_or(false))
        throw Error(ErrorKind::Failed,
                    what + " needs LM Studio 0.4 or newer: the server at " + address() +
                        " has only the v0 REST API, which cannot do it",
                    "upgrade LM Studio, or " + hint);
}

bool LmStudio::greets(const http::Endpoint& endpoint, const http::Timeouts& timeouts) {
    http::Client client(endpoint, timeouts, "", "is LM Studio's server running?");
    auto r = client.get("/lmstudio-greeting");
    if (r.status != 200)
        return false;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("lmstudio") && j["lmstudio"] == true;
}

std::string LmStudio::version() {
    if (!v1_) // known from any earlier answer
        list();
    return *v1_ ? "REST API v1" : "REST API v0";
}

std::vector<InstalledModel> LmStudio::installed() {
    std::vector<InstalledModel> out;
    for (auto& m : list())
        out.push_back(std::move(m.installed));
    return out;
}

std::vector<LoadedModel> LmStudio::loaded() {
    std::vector<LoadedModel> out;
    for (auto& m : list())
        for (auto& i : m.instances)
            out.push_back(std::move(i));
    return out;
}

ModelInfo LmStudio::show(const std::string& model) {
    for (auto& m : list())
        if (m.installed.name == model) {
            ModelInfo info;
            info.name = m.installed.name;
            info.details = m.installed.details;
            info.capabilities = m.capabilities;
            return info;
        }
    throw lmstudio::map_error(404, "", model, address(), options_.token_env,
                              !options_.token.empty());
}

void LmStudio::load(const std::string& model, const LoadSettings& settings) {
    auto models = list();
    require_v1("loading a model", "use `lms load` on that machine");
    for (const auto& m : models) {
        if (m.installed.name != model || m.instances.empty())
            continue;
        bool fits = std::any_of(m.instances.begin(), m.instances.end(), [&](const auto& i) {
            return settings.num_ctx <= 0 || i.context_length == settings.num_ctx;
        });
        if (fits)
            return;
        unload(model); // loaded at another context length: replace it
    }
    auto r =
        call("POST", "/api/v1/models/load", lmstudio::load_body(model, settings.num_ctx), model);
    lmstudio::parse_load(r.body);
}

EmbedResult LmStudio::embed(const std::string& model, const std::vector<std::string>& input,
                            const LoadSettings& settings) {
    if (input.empty()) {
        load(model, settings);
        return {};
    }
    auto r = call("POST", "/v1/embeddings", lmstudio::embeddings_body(model, input), model);
    return lmstudio::parse_embeddings(r.body);
}

void LmStudio::unload(const std::string& model) {
    auto models = list();
    require_v1("unloading a model", "use `lms unload` on that machine");
    for (const auto& m : models)
        if (m.installed.name == model)
            for (const auto& i : m.instances)
                call("POST", "/api/v1/models/unload", lmstudio::unload_body(i.instance_id), model);
    for (const auto& l : loaded())
        if (l.name == model)
            throw Error(ErrorKind::Failed,
                        "'" + model + "' is still loaded in LM Studio at " + address() +
                            " after unloading every instance of it (now " + l.instance_id + ")",
                        "something loaded it again meanwhile; try again");
}

void LmStudio::pull(const std::string& model,
                    const std::function<bool(const PullProgress&)>& on_progress) {
    if (!v1_)
        list();
    require_v1("downloading a model", "use `lms get` on that machine");
    using State = lmstudio::DownloadStatus::State;
    lmstudio::DownloadStatus s;
    try {
        s = lmstudio::parse_download(
            call("POST", "/api/v1/models/download", lmstudio::download_body(model), model).body);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotFound)
            throw;
        throw Error(ErrorKind::NotFound,
                    "LM Studio at " + address() + " found no model '" + model + "' to download",
                    "name it as LM Studio's catalog does (publisher/model, e.g. "
                    "ibm/granite-4-micro); lms get searches the catalog");
    }
    auto so_far = [&] {
        return util::format_size(s.downloaded) + " of " +
               (s.total > 0 ? util::format_size(s.total) : std::string("an unknown size"));
    };
    for (;;) {
        switch (s.state) {
        case State::AlreadyDownloaded:
            on_progress({"already downloaded", "", 0, 0});
            return;
        case State::Completed:
            on_progress({"downloaded", "", s.total, s.total});
            return;
        case State::Failed:
            throw Error(ErrorKind::Failed,
                        "LM Studio's download of '" + model + "' failed after " + so_far() +
                            " (job " + s.job_id + ")",
                        "LM Studio's log says why; modelctl pull " + model + " starts it again");
        case State::Paused:
            throw Error(ErrorKind::Failed,
                        "the download of '" + model + "' is paused in LM Studio at " + so_far() +
                            " (job " + s.job_id + ")",
                        "resume it in LM Studio; modelctl pull " + model + " then follows it");
        case State::Downloading:
            break;
        }
        // LM Studio's API has no way to cancel a download: stopping here
        // stops following it, and says so.
        bool go_on = on_progress({"downloading", "", s.total, s.downloaded});
        for (int i = 0; go_on && i < 10; ++i) { // 250 ms between looks
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
            go_on = !util::interrupted();
        }
        if (!go_on)
            throw Error(ErrorKind::Interrupted,
                        "stopped following the download of '" + model + "' at " + so_far() +
                            "; LM Studio goes on with it (job " + s.job_id +
                            "): its API cannot cancel a download",
                        "modelctl pull " + model +
                            " follows it again; LM Studio's downloads panel cancels it");
        s = lmstudio::parse_download(
            call("GET", "/api/v1/models/download/status/" + s.job_id, "", model).body);
    }
}

GenerateMetrics LmStudio::generate(const GenerateRequest& request,
                                   const std::function<void(std::string_view)>& on_text) {
    auto r = call("POST", "/api/v1/chat", lmstudio::chat_body(request), request.model);
    auto answer = lmstudio::parse_chat(r.body);
    if (!answer.text.empty())
        on_text(answer.text);
    return answer.metrics;
}

} // namespace core::provider

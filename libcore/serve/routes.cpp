#include "serve/routes.hpp"

namespace core::serve {

using nlohmann::json;

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find_first_of("?#"));
}

Route classify(std::string_view method, std::string_view path) {
    Route r;
    // LM Studio's REST API (/api/v0/*, /api/v1/*) answers errors in the
    // OpenAI shape too.
    if (path.substr(0, 4) == "/v1/" || path.substr(0, 8) == "/api/v0/" ||
        path.substr(0, 8) == "/api/v1/")
        r.api = Api::OpenAI;
    if (method != "POST")
        return r;
    // Ollama's server/routes.go GenerateRoutes: the handlers that call
    // scheduleRunner, and the OpenAI-compatible ones in front of them.
    static const std::pair<std::string_view, Kind> kRoutes[] = {
        {"/api/generate", Kind::Generate},
        {"/api/chat", Kind::Chat},
        {"/api/embed", Kind::Embed},
        {"/api/embeddings", Kind::Embeddings},
        {"/v1/completions", Kind::Completions},
        {"/v1/chat/completions", Kind::ChatCompletions},
        {"/v1/responses", Kind::Responses},
        {"/v1/embeddings", Kind::OpenAIEmbeddings},
        // LM Studio's own: the 0.4 REST API's chat, and the v0 beta API.
        {"/api/v1/chat", Kind::LmsChat},
        {"/api/v0/chat/completions", Kind::ChatCompletions},
        {"/api/v0/completions", Kind::Completions},
        {"/api/v0/embeddings", Kind::OpenAIEmbeddings},
    };
    for (const auto& [p, k] : kRoutes)
        if (path == p)
            r.kind = k;
    return r;
}

namespace {

bool has_images(const json& body) {
    // Ollama: "images" on generate, or on a chat message; OpenAI: a content
    // part of type "image_url" / "input_image".
    if (body.contains("images") && body["images"].is_array() && !body["images"].empty())
        return true;
    for (const char* key : {"messages", "input"}) {
        auto it = body.find(key);
        if (it == body.end() || !it->is_array())
            continue;
        for (const auto& m : *it) {
            if (!m.is_object())
                continue;
            if (auto im = m.find("images"); im != m.end() && im->is_array() && !im->empty())
                return true;
            if (auto c = m.find("content"); c != m.end() && c->is_array())
                for (const auto& part : *c)
                    if (part.is_object() && part.contains("type") && part["type"].is_string()) {
                        auto t = part["type"].get<std::string>();
                        if (t == "image_url" || t == "input_image")
                            return true;
                    }
        }
    }
    return false;
}

bool keep_alive_zero(const json& body) {
    auto it = body.find("keep_alive");
    if (it == body.end())
        return false;
    if (it->is_number())
        return it->get<double>() == 0;
    if (it->is_string()) {
        auto s = it->get<std::string>();
        return s == "0" || s == "0s" || s == "0m" || s == "0h";
    }
    return false;
}

} // namespace

std::optional<Ask> read_ask(const Route& route, const json& body) {
    if (!route.kind || !body.is_object())
        return std::nullopt;
    auto m = body.find("model");
    if (m == body.end() || !m->is_string() || m->get<std::string>().empty())
        return std::nullopt;
    Ask a;
    a.model = m->get<std::string>();
    Kind k = *route.kind;
    bool ollama = route.api == Api::Ollama;
    // /api streams unless told not to; /v1 only when told to.
    auto s = body.find("stream");
    a.stream = s != body.end() && s->is_boolean() ? s->get<bool>() : ollama;
    if (k == Kind::Embed || k == Kind::Embeddings)
        a.stream = false;
    if (auto o = body.find("options"); o != body.end() && o->is_object())
        a.has_num_ctx = o->contains("num_ctx");
    if (k == Kind::Generate || k == Kind::Chat) {
        bool empty = k == Kind::Generate
                         ? !body.contains("prompt") || (body["prompt"].is_string() &&
                                                        body["prompt"].get<std::string>().empty())
                         : !body.contains("messages") ||
                               (body["messages"].is_array() && body["messages"].empty());
        a.unload = empty && keep_alive_zero(body);
    }
    if (k == Kind::Embed || k == Kind::Embeddings || k == Kind::OpenAIEmbeddings)
        a.task = "embedding";
    else if (body.contains("tools") && body["tools"].is_array() && !body["tools"].empty())
        a.task = "tools";
    else if (has_images(body))
        a.task = "vision";
    else if (k == Kind::Chat || k == Kind::ChatCompletions || k == Kind::LmsChat)
        a.task = "chat";
    return a;
}

std::string error_body(Api api, int status, std::string_view message) {
    if (api == Api::Ollama)
        return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
    // Ollama's middleware/openai.go NewError: the type by status.
    std::string type = status == 400   ? "invalid_request_error"
                       : status == 404 ? "not_found_error"
                                       : "api_error";
    return json{
        {"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}}
        .dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace core::serve

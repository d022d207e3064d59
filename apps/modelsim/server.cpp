#include "server.hpp"

#include "downloads.hpp"
#include "http/endpoint.hpp"
#include "serve/access.hpp"
#include "util/duration.hpp"

#include <cstring>
#include <functional>
#include <openssl/evp.h>
#include <thread>
#include <unistd.h>

namespace modelsim {

using nlohmann::json;

namespace {

void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
    send_json(res, status, {{"error", message}});
}

// api/types.go Duration.UnmarshalJSON: a number of seconds or a Go duration
// string; negative means forever; anything else is an error.
std::optional<Ns> parse_keep_alive(const json& v) {
    if (v.is_number()) {
        double s = v.get<double>();
        if (s < 0)
            return Ns(-1);
        return std::chrono::duration_cast<Ns>(std::chrono::duration<double>(s));
    }
    if (v.is_string()) {
        auto d = core::util::parse_go_duration(v.get<std::string>());
        if (!d)
            throw ApiError{400, "time: missing unit in duration \"" + v.get<std::string>() + "\""};
        return *d < Ns(0) ? Ns(-1) : *d;
    }
    throw ApiError{400, "Unsupported type: '" + std::string(v.type_name()) + "'"};
}

// Applies the faults every API route shares; returns true when the request was answered.
bool injected(Faults& f, httplib::Response& res) {
    if (f.delay_ms > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));
    int busy = f.busy.load();
    while (busy != 0) {
        if (busy < 0 || f.busy.compare_exchange_weak(busy, busy - 1)) {
            // server/sched.go: ErrMaxQueue when the pending queue is full.
            send_error(res, 503,
                       "server busy, please try again.  maximum pending requests exceeded");
            return true;
        }
    }
    if (f.malformed) {
        res.status = 200;
        res.set_content("{\"models\": [{\"name\": \"trunc", "application/json; charset=utf-8");
        return true;
    }
    return false;
}

json parse_body(const httplib::Request& req) {
    json j = json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw ApiError{400, "invalid character in request body"};
    return j;
}

template <class F>
void guarded(httplib::Response& res, F&& f,
             void (*error)(httplib::Response&, int, const std::string&) = send_error) {
    try {
        f();
    } catch (const ApiError& e) {
        error(res, e.status, e.message);
    } catch (const std::exception& e) {
        error(res, 500, e.what());
    }
}

GenerateParams generate_params(const json& j) {
    GenerateParams p;
    p.model = j.value("model", "");
    if (p.model.empty())
        throw ApiError{400, "model is required"};
    p.prompt = j.value("prompt", "");
    if (auto ka = j.find("keep_alive"); ka != j.end() && !ka->is_null())
        p.keep_alive = parse_keep_alive(*ka);
    if (auto o = j.find("options"); o != j.end() && o->is_object()) {
        p.num_ctx = o->value("num_ctx", 0);
        p.num_predict = o->value("num_predict", -1);
    }
    return p;
}

// The faults a model's runner can meet when it is scheduled.
void check_runner(Simulator& sim, Faults& faults, const std::string& model) {
    sim.show(model); // 404 wins for a model not installed
    for (int n = faults.queue_full.load(); n != 0;)
        if (n < 0 || faults.queue_full.compare_exchange_weak(n, n - 1))
            // server/sched.go: ErrMaxQueue, when OLLAMA_MAX_QUEUE requests wait.
            throw ApiError{503,
                           "server busy, please try again.  maximum pending requests exceeded"};
    if (faults.oom)
        throw ApiError{500, "model requires more system memory (47.1 GiB) than is "
                            "available (30.2 GiB)"};
    if (faults.fail.count(normalize(model)))
        // What a runner that crashes while loading makes the server answer.
        throw ApiError{500, "llama runner process has terminated: exit status 2"};
}

// One /api/pull as server/images.go PullModel streams it: "pulling
// manifest", then per layer "pulling <12 hex>" lines with digest, total and
// (once something arrived) completed, then verifying, writing the manifest
// and success. The manifest is written last: a pull that fails or whose
// client hangs up before then changes nothing.
class PullJob {
public:
    PullJob(Simulator& sim, const Faults& faults, std::string name)
        : sim_(sim), faults_(faults), name_(std::move(name)) {}

    bool done() const { return done_; }
    // The next line of the stream, after the time it takes.
    json next() {
        switch (stage_++) {
        case 0:
            return {{"status", "pulling manifest"}};
        case 1:
            try {
                pull_ = sim_.library().start_pull(name_);
            } catch (const ApiError& e) {
                return fail(e.message);
            }
            [[fallthrough]];
        case 2:
            if (layer_ < pull_->layers.size()) {
                stage_ = 2;
                return download();
            }
            stage_ = 3;
            return {{"status", "verifying sha256 digest"}};
        case 3: {
            std::string before;
            try {
                before = sim_.library().find(name_)->digest;
            } catch (const ApiError&) {
            }
            replaced_ = !before.empty() && before != pull_->model.digest;
            sim_.library().finish_pull(*pull_, sim_.timestamp(core::util::now()));
            return {{"status", "writing manifest"}};
        }
        case 4:
            if (replaced_) // the old version's weights are no manifest's any more
                return {{"status", "removing any unused layers"}};
            [[fallthrough]];
        default:
            done_ = true;
            return {{"status", "success"}};
        }
    }

private:
    json fail(const std::string& message) {
        done_ = true;
        return {{"error", message}};
    }

    json download() {
        const Layer& l = pull_->layers[layer_];
        json line = {{"status", "pulling " + l.digest.substr(7, 12)},
                     {"digest", l.digest},
                     {"total", l.size}};
        if (pull_->on_disk[layer_]) { // server/download.go: a blob on disk is a cache hit
            ++layer_;
            line["completed"] = l.size;
            return line;
        }
        if (!announced_) { // no "completed" until something arrived (docs/api.md)
            announced_ = true;
            return line;
        }
        constexpr auto kStep = std::chrono::milliseconds(50);
        std::this_thread::sleep_for(kStep);
        auto chunk = static_cast<uint64_t>(sim_.config().pull_bandwidth * sim_.config().speed *
                                           std::chrono::duration<double>(kStep).count());
        uint64_t target = std::min(l.size, completed_ + std::max<uint64_t>(chunk, 1));
        if (faults_.pull_fail && layer_ == 0 && target >= l.size / 2)
            return fail("max retries exceeded: unexpected EOF");
        if (downloaded_ + (target - completed_) > pull_->disk_free)
            return fail("write /usr/share/ollama/.ollama/models/blobs/sha256-" +
                        l.digest.substr(7) + "-partial: no space left on device");
        downloaded_ += target - completed_;
        completed_ = target;
        line["completed"] = completed_;
        if (completed_ == l.size) {
            ++layer_;
            completed_ = 0;
            announced_ = false;
        }
        return line;
    }

    Simulator& sim_;
    const Faults& faults_;
    std::string name_;
    std::optional<Library::Pull> pull_;
    int stage_ = 0;
    size_t layer_ = 0;
    uint64_t completed_ = 0;  // of the current layer
    uint64_t downloaded_ = 0; // in all
    bool announced_ = false;
    bool replaced_ = false;
    bool done_ = false;
};

// middleware/openai.go NewError: OpenAI's error envelope, the type by status.
void send_openai_error(httplib::Response& res, int status, const std::string& message) {
    std::string type = status == 400   ? "invalid_request_error"
                       : status == 404 ? "not_found_error"
                                       : "api_error";
    send_json(
        res, status,
        {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}});
}

// The text a chat's messages amount to, for its prompt's token count.
std::string chat_prompt(const json& j) {
    std::string prompt;
    if (auto m = j.find("messages"); m != j.end() && m->is_array())
        for (const auto& msg : *m)
            if (msg.is_object() && msg.contains("content") && msg["content"].is_string())
                prompt += msg["content"].get<std::string>() + "\n";
    return prompt;
}

enum class Shape { Generate, Chat, OpenAIChat, OpenAICompletion };

struct AnswerOptions {
    Shape shape = Shape::Generate;
    bool stream = true;
    bool include_usage = false; // OpenAI: stream_options.include_usage
    bool json_format = false;   // format "json" (or a schema): the answer is a JSON document
    std::string tool;           // a tool to call instead of answering ("": none)
};

AnswerOptions answer_options(const json& j, Shape shape) {
    AnswerOptions o;
    o.shape = shape;
    bool openai = shape == Shape::OpenAIChat || shape == Shape::OpenAICompletion;
    auto st = j.find("stream");
    o.stream = st != j.end() && st->is_boolean() ? st->get<bool>() : !openai;
    if (auto so = j.find("stream_options"); so != j.end() && so->is_object())
        o.include_usage = so->value("include_usage", false);
    if (auto f = j.find("format"); f != j.end())
        o.json_format = (f->is_string() && f->get<std::string>() == "json") || f->is_object();
    if (auto rf = j.find("response_format"); rf != j.end() && rf->is_object())
        o.json_format =
            rf->value("type", "") == "json_object" || rf->value("type", "") == "json_schema";
    if (auto t = j.find("tools"); t != j.end() && t->is_array() && !t->empty()) {
        const json& fn = (*t)[0].value("function", json::object());
        o.tool = fn.is_object() ? fn.value("name", "tool") : "tool";
    }
    return o;
}

// The pieces of a session's answer: its words, or with format json the same
// words inside a JSON document.
std::vector<std::string> answer_pieces(const Session& s, bool json_format) {
    if (!json_format)
        return s.tokens;
    std::vector<std::string> out{"{\"answer\": \""};
    for (const auto& t : s.tokens)
        out.push_back(json(t).dump().substr(1, json(t).dump().size() - 2));
    out.push_back("\"}");
    return out;
}

// An embedding as OpenAI's encoding_format "base64" carries it: the float32
// values, little-endian, in standard base64.
std::string floats_base64(const json& values) {
    std::string bytes;
    for (const auto& v : values) {
        auto f = static_cast<float>(v.get<double>());
        unsigned char b[4];
        std::memcpy(b, &f, 4); // x86 and arm64 are little-endian
        bytes.append(reinterpret_cast<const char*>(b), 4);
    }
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

long epoch_now() {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
}

// One generation answered in the request's shape, streamed (NDJSON for
// Ollama's routes, SSE for OpenAI's) or whole; the faults apply to streams.
void answer(httplib::Response& res, Simulator& sim, Faults& faults, const GenerateParams& p,
            const AnswerOptions& o) {
    static std::atomic<uint64_t> ids{0};
    auto session = std::make_shared<Session>(sim.begin(p));
    bool openai = o.shape == Shape::OpenAIChat || o.shape == Shape::OpenAICompletion;
    std::string id = (o.shape == Shape::OpenAIChat ? "chatcmpl-" : "cmpl-") + std::to_string(++ids);
    long created = epoch_now();
    json tool_calls = json::array();
    if (!o.tool.empty() && (o.shape == Shape::Chat || o.shape == Shape::OpenAIChat)) {
        json call = {{"function", {{"name", o.tool}, {"arguments", json::object()}}}};
        if (o.shape == Shape::OpenAIChat) {
            call["id"] = "call_" + std::to_string(ids);
            call["type"] = "function";
            call["function"]["arguments"] = "{}";
            call["index"] = 0;
        }
        tool_calls.push_back(call);
    }
    std::vector<std::string> pieces =
        tool_calls.empty() ? answer_pieces(*session, o.json_format) : std::vector<std::string>{};
    auto finish_reason = [tool_calls, openai, session] { // by value: streams outlive answer()
        if (!tool_calls.empty())
            return std::string(openai ? "tool_calls" : "stop");
        return std::string(session->truncated_by_limit ? "length" : "stop");
    };
    auto usage = [session] {
        int in = session->prompt_tokens;
        int out = static_cast<int>(session->tokens.size());
        return json{{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}};
    };
    auto openai_base = [=](const char* object) {
        return json{{"id", id},
                    {"object", object},
                    {"created", created},
                    {"model", p.model},
                    {"system_fingerprint", "fp_ollama"}};
    };
    // A piece of the answer as its stream sends it.
    auto chunk = [=, &sim](const std::string& piece, const json& calls) {
        switch (o.shape) {
        case Shape::Generate:
            return json{{"model", p.model},
                        {"created_at", sim.timestamp(core::util::now())},
                        {"response", piece},
                        {"done", false}};
        case Shape::Chat: {
            json m = {{"role", "assistant"}, {"content", piece}};
            if (!calls.empty())
                m["tool_calls"] = calls;
            return json{{"model", p.model},
                        {"created_at", sim.timestamp(core::util::now())},
                        {"message", m},
                        {"done", false}};
        }
        case Shape::OpenAIChat: {
            json c = openai_base("chat.completion.chunk");
            json delta = {{"role", "assistant"}, {"content", piece}};
            if (!calls.empty())
                delta["tool_calls"] = calls;
            c["choices"] =
                json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", nullptr}}});
            return c;
        }
        case Shape::OpenAICompletion: {
            json c = openai_base("text_completion");
            c["choices"] =
                json::array({{{"text", piece}, {"index", 0}, {"finish_reason", nullptr}}});
            return c;
        }
        }
        return json();
    };
    // The final object(s): Ollama's done line, OpenAI's finish (and usage).
    auto finale = [=, &sim](const json& done, const std::string& text) {
        std::vector<json> out;
        if (o.shape == Shape::Generate || o.shape == Shape::Chat) {
            json d = done;
            if (o.shape == Shape::Chat) {
                d.erase("response");
                json m = {{"role", "assistant"}, {"content", text}};
                if (!tool_calls.empty() && !o.stream)
                    m["tool_calls"] = tool_calls;
                d["message"] = m;
            } else {
                d["response"] = text;
                // Tokens of the conversation so far (an old client sends them back).
                json ctx = json::array();
                int n = session->prompt_tokens + static_cast<int>(session->tokens.size());
                for (int i = 0; i < n; ++i)
                    ctx.push_back(100 + i);
                d["context"] = ctx;
            }
            d["done_reason"] = finish_reason();
            out.push_back(d);
            return out;
        }
        if (!o.stream) {
            json c =
                openai_base(o.shape == Shape::OpenAIChat ? "chat.completion" : "text_completion");
            if (o.shape == Shape::OpenAIChat) {
                json m = {{"role", "assistant"}, {"content", text}};
                if (!tool_calls.empty())
                    m["tool_calls"] = tool_calls;
                c["choices"] = json::array(
                    {{{"index", 0}, {"message", m}, {"finish_reason", finish_reason()}}});
            } else {
                c["choices"] = json::array(
                    {{{"text", text}, {"index", 0}, {"finish_reason", finish_reason()}}});
            }
            c["usage"] = usage();
            out.push_back(c);
            return out;
        }
        json last = chunk("", json::array());
        last["choices"][0]["finish_reason"] = finish_reason();
        out.push_back(last);
        if (o.include_usage) {
            json u = openai_base("chat.completion.chunk");
            if (o.shape == Shape::OpenAICompletion)
                u["object"] = "text_completion";
            u["choices"] = json::array();
            u["usage"] = usage();
            out.push_back(u);
        }
        (void)sim;
        return out;
    };
    auto finish = [&sim, session](bool& finished) {
        json out;
        if (!finished)
            out = sim.finish(*session, "stop");
        finished = true;
        return out;
    };

    if (!o.stream) {
        std::string text;
        for (const auto& t : pieces)
            text += t;
        std::this_thread::sleep_for(session->prompt_eval_duration +
                                    session->per_token * static_cast<long>(session->tokens.size()));
        bool finished = false;
        json done = finish(finished);
        send_json(res, 200, finale(done, text).front());
        return;
    }

    struct Stream {
        std::vector<std::string> pieces;
        size_t sent = 0;
        bool calls_sent = false;
        bool finished = false;
    };
    auto st = std::make_shared<Stream>();
    st->pieces = std::move(pieces);
    auto frame = [openai](const json& j) {
        return openai ? "data: " + j.dump() + "\n\n" : j.dump() + "\n";
    };
    res.status = 200;
    res.set_chunked_content_provider(
        openai ? "text/event-stream" : "application/x-ndjson",
        [&faults, st, session, chunk, finale, finish, frame, openai,
         tool_calls](size_t, httplib::DataSink& sink) {
            auto write = [&](const std::string& bytes) {
                return sink.write(bytes.data(), bytes.size());
            };
            if (st->sent == 0 && !st->calls_sent)
                std::this_thread::sleep_for(session->prompt_eval_duration);
            if (!tool_calls.empty() && !st->calls_sent) {
                st->calls_sent = true;
                return write(frame(chunk("", tool_calls)));
            }
            if (st->sent < st->pieces.size()) {
                if ((faults.truncate || faults.midstream_error) && st->sent == 3) {
                    finish(st->finished);
                    if (faults.truncate)
                        return false; // drop the connection: no final line
                    json err = {{"error", "an error was encountered while running the model: "
                                          "unexpected EOF"}};
                    if (openai)
                        err = {{"error", {{"message", err["error"]}, {"type", "api_error"}}}};
                    write(frame(err));
                    sink.done();
                    return true;
                }
                std::this_thread::sleep_for(session->per_token);
                return write(frame(chunk(st->pieces[st->sent++], json::array())));
            }
            json done = finish(st->finished);
            for (const auto& j : finale(done, ""))
                write(frame(j));
            if (openai)
                write("data: [DONE]\n\n");
            sink.done();
            return true;
        },
        // Runs however the stream ends, so a client that hangs up still
        // releases the model and starts its keep_alive clock.
        [st, finish](bool) { finish(st->finished); });
}

// GET /modelsim/stats, and the request count behind it.
void install_stats(httplib::Server& server, Simulator& sim) {
    server.Get("/modelsim/stats", [&sim](const httplib::Request&, httplib::Response& res) {
        auto s = sim.stats();
        send_json(res, 200,
                  {{"requests", s.requests},
                   {"loads", s.loads},
                   {"load_seconds", s.load_seconds},
                   {"evictions", s.evictions},
                   {"downloads", s.downloads}});
    });
    server.set_logger([&sim](const httplib::Request& req, const httplib::Response&) {
        if (req.path != "/modelsim/stats")
            sim.count_request();
    });
}

// The OpenAI-compatible routes: Ollama's (docs/api/openai-compatibility.mdx,
// middleware/openai.go) and LM Studio's (its OpenAI compatibility docs): the
// same generations in OpenAI's shapes, errors in its envelope. Ollama's
// cannot set keep_alive (the server default applies); LM Studio's take the
// JIT "ttl", and list every downloaded model in /v1/models, as LM Studio does
// with just-in-time loading on (modelsim's LM Studio loads on demand).
void install_openai_routes(httplib::Server& server, Simulator& sim, Faults& faults, bool lmstudio) {
    using OpenAIAnswer = std::function<void(const json&, httplib::Response&)>;
    auto openai = [&faults](OpenAIAnswer answer_fn) {
        return [&faults, answer_fn](const httplib::Request& req, httplib::Response& res) {
            if (!injected(faults, res))
                guarded(
                    res, [&] { answer_fn(parse_body(req), res); }, send_openai_error);
        };
    };
    auto v1_params = [lmstudio](const json& j) {
        GenerateParams p;
        if (auto ttl = j.find("ttl"); lmstudio && ttl != j.end() && ttl->is_number())
            p.keep_alive = std::chrono::duration_cast<Ns>(std::chrono::duration<double>(*ttl));
        if (!j.contains("model") || !j["model"].is_string() ||
            j["model"].get<std::string>().empty())
            throw ApiError{400, "model is required"};
        p.model = j["model"].get<std::string>();
        if (auto m = j.find("max_tokens"); m != j.end() && m->is_number_integer())
            p.num_predict = m->get<int>();
        return p;
    };
    server.Post(
        "/v1/chat/completions", openai([&, v1_params](const json& j, httplib::Response& res) {
            GenerateParams p = v1_params(j);
            if (!j.contains("messages") || !j["messages"].is_array() || j["messages"].empty())
                throw ApiError{400, "[] is too short - 'messages'"};
            p.prompt = chat_prompt(j);
            if (!sim.can_generate(p.model))
                throw ApiError{400, json(p.model).dump() + " does not support chat"};
            check_runner(sim, faults, p.model);
            answer(res, sim, faults, p, answer_options(j, Shape::OpenAIChat));
        }));
    server.Post("/v1/completions", openai([&, v1_params](const json& j, httplib::Response& res) {
                    GenerateParams p = v1_params(j);
                    if (auto pr = j.find("prompt"); pr != j.end() && pr->is_string())
                        p.prompt = pr->get<std::string>();
                    if (!sim.can_generate(p.model))
                        throw ApiError{400, json(p.model).dump() + " does not support generate"};
                    check_runner(sim, faults, p.model);
                    answer(res, sim, faults, p, answer_options(j, Shape::OpenAICompletion));
                }));
    server.Post("/v1/embeddings", openai([&, v1_params](const json& j, httplib::Response& res) {
                    GenerateParams p = v1_params(j);
                    std::vector<std::string> input;
                    auto in = j.find("input");
                    if (in != j.end() && in->is_string())
                        input.push_back(in->get<std::string>());
                    else if (in != j.end() && in->is_array())
                        for (const auto& v : *in) {
                            if (!v.is_string())
                                throw ApiError{400, "invalid input type"};
                            input.push_back(v.get<std::string>());
                        }
                    if (input.empty())
                        throw ApiError{400, "invalid input"};
                    // "base64": what the openai SDKs ask for by default
                    // (Ollama's openai/openai.go, floatsToBase64).
                    bool base64 = j.value("encoding_format", "") == "base64";
                    check_runner(sim, faults, p.model);
                    json e = sim.embed(p, input);
                    json data = json::array();
                    for (size_t i = 0; i < e["embeddings"].size(); ++i)
                        data.push_back(
                            {{"object", "embedding"},
                             {"embedding", base64 ? json(floats_base64(e["embeddings"][i]))
                                                  : e["embeddings"][i]},
                             {"index", i}});
                    int tokens = e.value("prompt_eval_count", 0);
                    send_json(res, 200,
                              {{"object", "list"},
                               {"data", data},
                               {"model", p.model},
                               {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
                }));
    server.Get("/v1/models", [&sim, &faults, lmstudio](const httplib::Request&,
                                                       httplib::Response& res) {
        if (injected(faults, res))
            return;
        json data = json::array();
        if (lmstudio) {
            json models = sim.lms_models(true);
            for (const auto& m : models["models"])
                data.push_back(
                    {{"id", m["key"]}, {"object", "model"}, {"owned_by", "organization_owner"}});
            send_json(res, 200, {{"object", "list"}, {"data", data}});
            return;
        }
        json tags = sim.tags();
        for (const auto& m : tags["models"]) {
            auto t = core::util::parse_rfc3339(m.value("modified_at", ""));
            long created = t ? static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                                                     t->time_since_epoch())
                                                     .count())
                             : 0;
            data.push_back({{"id", m["name"]},
                            {"object", "model"},
                            {"created", created},
                            {"owned_by", "library"}});
        }
        send_json(res, 200, {{"object", "list"}, {"data", data}});
    });
}

} // namespace

void install_routes(httplib::Server& server, Simulator& sim, Faults& faults,
                    const std::string& listen_host) {
    if (core::http::is_loopback(listen_host) || listen_host == "[::1]")
        server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
            char name[256] = {};
            gethostname(name, sizeof name - 1);
            if (core::serve::host_allowed(req.get_header_value("Host"), name)) {
                if (req.method != "OPTIONS")
                    return httplib::Server::HandlerResponse::Unhandled;
                res.status = 204;
                return httplib::Server::HandlerResponse::Handled;
            }
            res.status = 403;
            return httplib::Server::HandlerResponse::Handled;
        });
    // A route taking a JSON body: the faults first, then `answer`, whose
    // ApiError becomes Ollama's {"error": ...} answer.
    using Answer = std::function<void(const json&, httplib::Response&)>;
    auto api = [&faults](Answer answer) {
        return [&faults, answer](const httplib::Request& req, httplib::Response& res) {
            if (!injected(faults, res))
                guarded(res, [&] { answer(parse_body(req), res); });
        };
    };
    auto post = [&](const char* path, Answer answer) { server.Post(path, api(std::move(answer))); };
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("Ollama is running", "text/plain; charset=utf-8");
    });
    server.Get("/api/version", [&](const httplib::Request&, httplib::Response& res) {
        if (!injected(faults, res))
            send_json(res, 200, sim.version());
    });
    server.Get("/api/tags", [&](const httplib::Request&, httplib::Response& res) {
        if (!injected(faults, res))
            send_json(res, 200, sim.tags());
    });
    server.Get("/api/ps", [&](const httplib::Request&, httplib::Response& res) {
        if (!injected(faults, res))
            send_json(res, 200, sim.ps());
    });
    post("/api/show", [&](const json& j, httplib::Response& res) {
        std::string model = j.value("model", j.value("name", ""));
        if (model.empty())
            throw ApiError{400, "model is required"};
        send_json(res, 200, sim.show(model));
    });
    // docs/api.md "Pull a Model": a stream of progress lines; an error once
    // the stream has begun comes as an {"error": ...} line (routes.go
    // PullHandler); with stream false, one answer.
    post("/api/pull", [&](const json& j, httplib::Response& res) {
        std::string name = j.value("model", j.value("name", ""));
        if (!Library::valid_name(name))
            throw ApiError{400, "invalid model name"};
        auto job = std::make_shared<PullJob>(sim, faults, name);
        if (!j.value("stream", true)) {
            json last;
            while (!job->done())
                last = job->next();
            if (last.contains("error"))
                throw ApiError{500, last["error"].get<std::string>()};
            send_json(res, 200, last);
            return;
        }
        res.status = 200;
        res.set_chunked_content_provider(
            "application/x-ndjson", [job](size_t, httplib::DataSink& sink) {
                std::string line = job->next().dump() + "\n";
                if (!sink.write(line.data(), line.size()))
                    return false; // the client hung up: the pull stops there
                if (job->done())
                    sink.done();
                return true;
            });
    });
    // docs/api.md "Copy a Model": 200 with no body, 404 for a missing source.
    post("/api/copy", [&](const json& j, httplib::Response& res) {
        sim.library().copy(j.value("source", ""), j.value("destination", ""));
        res.status = 200;
    });
    // docs/api.md "Delete a Model": 200 with no body, 404 for a missing model.
    Answer remove = [&](const json& j, httplib::Response& res) {
        std::string name = j.value("model", j.value("name", ""));
        if (!Library::valid_name(name))
            throw ApiError{400, "invalid model name"};
        sim.library().remove(name);
        res.status = 200;
    };
    server.Delete("/api/delete", api(remove));
    // docs/api.md "Generate Embeddings": input is a string or a list of
    // strings; an empty input only loads the model (routes.go EmbedHandler).
    post("/api/embed", [&](const json& j, httplib::Response& res) {
        std::vector<std::string> input;
        if (auto in = j.find("input"); in != j.end() && !in->is_null()) {
            if (in->is_string()) {
                if (!in->get<std::string>().empty())
                    input.push_back(in->get<std::string>());
            } else if (in->is_array()) {
                for (const auto& v : *in) {
                    if (!v.is_string())
                        throw ApiError{400, "invalid input type"};
                    input.push_back(v.get<std::string>());
                }
            } else {
                throw ApiError{400, "invalid input type"};
            }
        }
        GenerateParams p = generate_params(j);
        check_runner(sim, faults, p.model);
        send_json(res, 200, sim.embed(p, input));
    });
    server.Post(
        "/api/generate", api([&](const json& j, httplib::Response& res) {
            GenerateParams p = generate_params(j);
            // server/routes.go GenerateHandler: an unload (empty prompt,
            // keep_alive 0) is answered before the model's capabilities or
            // runner matter.
            bool unload = p.prompt.empty() && p.keep_alive && *p.keep_alive == Ns(0);
            if (!unload) { // 404, then the capability, then the runner (scheduleRunner)
                if (!sim.can_generate(p.model))
                    throw ApiError{400, json(p.model).dump() + " does not support generate"};
                check_runner(sim, faults, p.model);
            }
            if (p.prompt.empty()) { // load or unload (docs/api.md)
                send_json(res, 200, sim.load_or_unload(p));
                return;
            }
            answer(res, sim, faults, p, answer_options(j, Shape::Generate));
        }));
    // docs/api.md "Generate a chat completion": no messages loads (or, with
    // keep_alive 0, unloads) the model, as an empty prompt does.
    server.Post("/api/chat", api([&](const json& j, httplib::Response& res) {
                    GenerateParams p = generate_params(j);
                    p.prompt = chat_prompt(j);
                    bool empty = !j.contains("messages") || j["messages"].empty();
                    bool unload = empty && p.keep_alive && *p.keep_alive == Ns(0);
                    if (!unload) {
                        if (!sim.can_generate(p.model))
                            throw ApiError{400, json(p.model).dump() + " does not support chat"};
                        check_runner(sim, faults, p.model);
                    }
                    if (empty) {
                        json out = sim.load_or_unload(p);
                        out.erase("response");
                        out["message"] = {{"role", "assistant"}, {"content", ""}};
                        send_json(res, 200, out);
                        return;
                    }
                    answer(res, sim, faults, p, answer_options(j, Shape::Chat));
                }));

    install_openai_routes(server, sim, faults, false);
    install_stats(server, sim);
}

namespace {

// LM Studio's error answers, in the OpenAI style of its other endpoints.
void send_lms_error(httplib::Response& res, int status, const std::string& message) {
    send_json(res, status, {{"error", {{"message", message}, {"type", "invalid_request_error"}}}});
}

} // namespace

void install_lmstudio_routes(httplib::Server& server, Simulator& sim, Faults& faults,
                             const LmStudioOptions& options) {
    install_stats(server, sim);
    // Authentication (LM Studio 0.4+, when required in the server settings):
    // every request needs "Authorization: Bearer <token>".
    auto downloads = std::make_shared<Downloads>(sim, faults.pull_fail);
    server.set_pre_routing_handler(
        [&options, downloads](const httplib::Request& req, httplib::Response& res) {
            // Whatever the request, downloads under way are brought up to now.
            downloads->advance();
            // The greeting answers anyone: it is how a client (lms,
            // src/createClient.ts) tells LM Studio from whatever else listens.
            if (options.token.empty() || req.path == "/lmstudio-greeting" ||
                req.get_header_value("Authorization") == "Bearer " + options.token)
                return httplib::Server::HandlerResponse::Unhandled;
            send_lms_error(res, 401, "Invalid or missing API token");
            return httplib::Server::HandlerResponse::Handled;
        });
    auto unexpected = [](const httplib::Request& req, httplib::Response& res) {
        send_json(
            res, 404,
            {{"error", "Unexpected endpoint or method. (" + req.method + " " + req.path + ")"}});
    };
    server.Get("/lmstudio-greeting", [](const httplib::Request&, httplib::Response& res) {
        send_json(res, 200, {{"lmstudio", true}});
    });
    server.Get("/api/v0/models", [&](const httplib::Request&, httplib::Response& res) {
        if (!injected(faults, res))
            send_json(res, 200, sim.lms_models(false));
    });
    // Its OpenAI-compatible routes, older than its REST API's v1.
    install_openai_routes(server, sim, faults, true);
    if (options.v0_only) { // before LM Studio 0.4
        server.Get("/api/v1/models", unexpected);
        server.Post("/api/v1/models/load", unexpected);
        server.Post("/api/v1/models/unload", unexpected);
        server.Post("/api/v1/chat", unexpected);
        server.Post("/api/v1/models/download", unexpected);
        server.Get(R"(/api/v1/models/download/status/([^/]+))", unexpected);
        return;
    }
    server.Get("/api/v1/models", [&](const httplib::Request&, httplib::Response& res) {
        if (!injected(faults, res))
            send_json(res, 200, sim.lms_models(true));
    });
    // A POST route: faults, the JSON body, and LM Studio's error shape for
    // whatever `answer` throws; `answer` returns the 200 answer's body.
    auto post = [&](const char* path, std::function<json(const json&)> answer) {
        server.Post(path, [&faults, answer](const httplib::Request& req, httplib::Response& res) {
            if (injected(faults, res))
                return;
            guarded(
                res, [&] { send_json(res, 200, answer(parse_body(req))); }, send_lms_error);
        });
    };
    post("/api/v1/models/load", [&](const json& j) -> json {
        std::string model = j.value("model", "");
        if (model.empty())
            throw ApiError{400, "'model' is required"};
        check_runner(sim, faults, model);
        int ctx = j.value("context_length", 0);
        return sim.lms_load(model, ctx);
    });
    post("/api/v1/models/unload", [&](const json& j) -> json {
        std::string id = j.value("instance_id", "");
        if (id.empty())
            throw ApiError{400, "'instance_id' is required"};
        return sim.lms_unload(id);
    });
    post("/api/v1/models/download", [downloads](const json& j) -> json {
        std::string model = j.value("model", "");
        if (model.empty())
            throw ApiError{400, "'model' is required"};
        return downloads->start(model);
    });
    server.Get(R"(/api/v1/models/download/status/([^/]+))",
               [&faults, downloads](const httplib::Request& req, httplib::Response& res) {
                   if (injected(faults, res))
                       return;
                   guarded(
                       res, [&] { send_json(res, 200, downloads->status(req.matches[1])); },
                       send_lms_error);
               });
    // POST /api/v1/chat (LM Studio's REST docs, chat.md): one answer, or with
    // stream: true named SSE events (streaming-events.md) from chat.start to
    // chat.end, whose `result` is the answer a non-streamed request gets.
    server.Post("/api/v1/chat", [&sim, &faults](const httplib::Request& req,
                                                httplib::Response& res) {
        if (injected(faults, res))
            return;
        guarded(
            res,
            [&] {
                json j = parse_body(req);
                GenerateParams p;
                p.model = j.value("model", "");
                if (p.model.empty())
                    throw ApiError{400, "'model' is required"};
                if (!j.contains("input") || !j["input"].is_string())
                    throw ApiError{400, "'input' is required"};
                bool stream = j.value("stream", false);
                p.prompt = j["input"].get<std::string>();
                p.num_ctx = j.value("context_length", 0);
                p.num_predict = j.value("max_output_tokens", -1);
                if (auto ttl = j.find("ttl"); ttl != j.end() && ttl->is_number())
                    p.keep_alive =
                        std::chrono::duration_cast<Ns>(std::chrono::duration<double>(*ttl));
                if (!sim.can_generate(p.model))
                    throw ApiError{400, "Model \"" + p.model + "\" is an embedding model"};
                check_runner(sim, faults, p.model);
                auto session = std::make_shared<Session>(sim.begin(p));
                // Ends the use once, however the answer ends; the answer's body.
                auto finished = std::make_shared<bool>(false);
                auto result = [&sim, session, finished] {
                    json fin = sim.finish(*session, "stop");
                    *finished = true;
                    std::string text;
                    for (const auto& t : session->tokens)
                        text += t;
                    double eval_s = static_cast<double>(fin["eval_duration"].get<int64_t>()) / 1e9;
                    double count = static_cast<double>(session->tokens.size());
                    return json{
                        {"model_instance_id", session->model},
                        {"output", {{{"type", "message"}, {"content", text}}}},
                        {"stats",
                         {{"input_tokens", session->prompt_tokens},
                          {"total_output_tokens", session->tokens.size()},
                          {"reasoning_output_tokens", 0},
                          {"tokens_per_second", eval_s > 0 ? count / eval_s : 0.0},
                          {"time_to_first_token_seconds",
                           std::chrono::duration<double>(session->prompt_eval_duration).count()}}}};
                };
                if (!stream) {
                    std::this_thread::sleep_for(session->prompt_eval_duration +
                                                session->per_token *
                                                    static_cast<long>(session->tokens.size()));
                    send_json(res, 200, result());
                    return;
                }
                // The events before the first token, then one message.delta a token.
                std::vector<json> opening = {
                    {{"type", "chat.start"}, {"model_instance_id", session->model}}};
                if (session->load_duration.count() > 0) {
                    opening.push_back(
                        {{"type", "model_load.start"}, {"model_instance_id", session->model}});
                    opening.push_back(
                        {{"type", "model_load.end"},
                         {"model_instance_id", session->model},
                         {"load_time_seconds",
                          std::chrono::duration<double>(session->load_duration).count()}});
                }
                opening.push_back({{"type", "prompt_processing.start"}});
                auto sent = std::make_shared<size_t>(0);
                auto event = [](const json& e) {
                    return "event: " + e["type"].get<std::string>() + "\ndata: " + e.dump() +
                           "\n\n";
                };
                res.status = 200;
                res.set_chunked_content_provider(
                    "text/event-stream",
                    [session, sent, result, event, opening](size_t, httplib::DataSink& sink) {
                        std::string bytes;
                        if (*sent == 0) {
                            for (const auto& e : opening)
                                bytes += event(e);
                            if (!sink.write(bytes.data(), bytes.size()))
                                return false;
                            std::this_thread::sleep_for(session->prompt_eval_duration);
                            bytes = event({{"type", "prompt_processing.end"}}) +
                                    event({{"type", "message.start"}});
                        }
                        if (*sent < session->tokens.size()) {
                            if (*sent > 0)
                                std::this_thread::sleep_for(session->per_token);
                            bytes += event({{"type", "message.delta"},
                                            {"content", session->tokens[(*sent)++]}});
                            return sink.write(bytes.data(), bytes.size());
                        }
                        bytes += event({{"type", "message.end"}}) +
                                 event({{"type", "chat.end"}, {"result", result()}});
                        sink.write(bytes.data(), bytes.size());
                        sink.done();
                        return true;
                    },
                    // However the stream ends, the model is released.
                    [&sim, session, finished](bool) {
                        if (!*finished)
                            sim.finish(*session, "stop");
                    });
            },
            send_lms_error);
    });
}

} // namespace modelsim

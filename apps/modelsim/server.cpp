#include "server.hpp"

#include "util/duration.hpp"

#include <thread>

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

template <class F> void guarded(httplib::Response& res, F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        send_error(res, e.status, e.message);
    } catch (const std::exception& e) {
        send_error(res, 500, e.what());
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
void check_runner(Simulator& sim, const Faults& faults, const std::string& model) {
    sim.show(model); // 404 wins for a model not installed
    if (faults.oom)
        throw ApiError{500, "model requires more system memory (47.1 GiB) than is "
                            "available (30.2 GiB)"};
    if (faults.fail.count(normalize(model)))
        // What a runner that crashes while loading makes the server answer.
        throw ApiError{500, "llama runner process has terminated: exit status 2"};
}

} // namespace

void install_routes(httplib::Server& server, Simulator& sim, Faults& faults) {
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
    server.Post("/api/show", [&](const httplib::Request& req, httplib::Response& res) {
        if (injected(faults, res))
            return;
        guarded(res, [&] {
            json j = parse_body(req);
            std::string model = j.value("model", j.value("name", ""));
            if (model.empty())
                throw ApiError{400, "model is required"};
            send_json(res, 200, sim.show(model));
        });
    });
    // docs/api.md "Generate Embeddings": input is a string or a list of
    // strings; an empty input only loads the model (routes.go EmbedHandler).
    server.Post("/api/embed", [&](const httplib::Request& req, httplib::Response& res) {
        if (injected(faults, res))
            return;
        guarded(res, [&] {
            json j = parse_body(req);
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
    });
    server.Post("/api/generate", [&](const httplib::Request& req, httplib::Response& res) {
        if (injected(faults, res))
            return;
        guarded(res, [&] {
            json j = parse_body(req);
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
            auto session = std::make_shared<Session>(sim.begin(p));
            bool stream = j.value("stream", true);
            if (!stream) {
                std::string text;
                for (const auto& t : session->tokens)
                    text += t;
                std::this_thread::sleep_for(session->prompt_eval_duration +
                                            session->per_token *
                                                static_cast<long>(session->tokens.size()));
                json out = sim.finish(*session, session->truncated_by_limit ? "length" : "stop");
                out["response"] = text;
                send_json(res, 200, out);
                return;
            }
            res.status = 200;
            struct Stream {
                std::shared_ptr<Session> session;
                size_t sent = 0;
                bool finished = false;
            };
            auto st = std::make_shared<Stream>();
            st->session = session;
            auto finish = [&sim](Stream& s) {
                json out;
                if (!s.finished)
                    out = sim.finish(*s.session, s.session->truncated_by_limit ? "length" : "stop");
                s.finished = true;
                return out;
            };
            res.set_chunked_content_provider(
                "application/x-ndjson",
                [&sim, &faults, st, finish](size_t, httplib::DataSink& sink) {
                    Session& s = *st->session;
                    if (st->sent == 0)
                        std::this_thread::sleep_for(s.prompt_eval_duration);
                    if (st->sent < s.tokens.size()) {
                        if ((faults.truncate || faults.midstream_error) && st->sent == 3) {
                            finish(*st);
                            if (faults.truncate)
                                return false; // drop the connection: no final line
                            std::string line =
                                json{{"error", "an error was encountered while running the "
                                               "model: unexpected EOF"}}
                                    .dump() +
                                "\n";
                            sink.write(line.data(), line.size());
                            sink.done();
                            return true;
                        }
                        std::this_thread::sleep_for(s.per_token);
                        json chunk = {{"model", s.model},
                                      {"created_at", sim.timestamp(core::util::now())},
                                      {"response", s.tokens[st->sent]},
                                      {"done", false}};
                        std::string line = chunk.dump() + "\n";
                        ++st->sent;
                        return sink.write(line.data(), line.size());
                    }
                    std::string line = finish(*st).dump() + "\n";
                    sink.write(line.data(), line.size());
                    sink.done();
                    return true;
                },
                // Runs however the stream ends, so a client that hangs up
                // still releases the model and starts its keep_alive clock.
                [st, finish](bool) { finish(*st); });
        });
    });
}

} // namespace modelsim

#include "serve/proxy.hpp"

#include "error.hpp"
#include "provider/provider.hpp"
#include "recommend/recommend.hpp"
#include "util/text.hpp"
#include "util/timestamp.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace core::serve {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// RFC 9110 7.6.1: fields for one connection only, never forwarded; also
// those the Connection field names.
bool hop_by_hop(std::string_view name, const http::Fields& fields) {
    for (const char* h : {"connection", "keep-alive", "proxy-connection", "te", "trailer",
                          "transfer-encoding", "upgrade"})
        if (http::iequals(name, h))
            return true;
    return http::has_token(fields, "connection", name);
}

http::Fields end_to_end(const http::Fields& in, std::initializer_list<const char*> also) {
    http::Fields out;
    for (const auto& f : in) {
        bool drop = hop_by_hop(f.name, in);
        for (const char* a : also)
            drop = drop || http::iequals(f.name, a);
        if (!drop)
            out.push_back(f);
    }
    return out;
}

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_stream_type(std::string_view ct) {
    ct = ct.substr(0, ct.find(';'));
    return ct == "text/event-stream" || ct == "application/x-ndjson";
}

std::string host_field(const http::UpstreamPool& p) {
    return p.host() + ":" + std::to_string(p.port());
}

} // namespace

struct Proxy::Forward {
    const Lane* lane = nullptr; // where it goes
    Route route;
    RequestLog log;
    std::optional<std::string> body; // the whole body, when it was read
    Clock::time_point started = Clock::now();
    std::optional<UsageTap> tap;
    bool answered_by_upstream = false;
    bool broke = false; // the answer broke off midway
};

Proxy::Proxy(std::vector<Lane> lanes, Router* router, Recorder& recorder, ProxyOptions options)
    : lanes_(std::move(lanes)), router_(router), recorder_(recorder), options_(std::move(options)) {
}

namespace {

// The routes that name a model in their body but load none (Ollama's
// server/routes.go; LM Studio's REST API): in front of several servers, the
// body is read to find which one.
bool names_model_in_body(std::string_view method, std::string_view path) {
    if (method == "DELETE")
        return path == "/api/delete";
    return method == "POST" &&
           (path == "/api/show" || path == "/api/pull" || path == "/api/push" ||
            path == "/api/create" || path == "/api/copy" || path == "/api/delete" ||
            path == "/api/v1/models/load" || path == "/api/v1/models/unload");
}

// The model such a body names ("model"; older Ollama clients "name"; copy's
// "source"), or "".
std::string model_in(const json& j) {
    if (!j.is_object())
        return "";
    for (const char* key : {"model", "name", "source", "instance_id"})
        if (auto it = j.find(key);
            it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
            return it->get<std::string>();
    return "";
}

} // namespace

void Proxy::handle(http::Exchange& ex) {
    Forward f;
    const auto& rq = ex.request();
    f.lane = &lanes_.front();
    f.log.method = rq.method;
    f.log.path = std::string(path_of(rq.target));
    f.route = classify(rq.method, f.log.path);
    if (f.route.model_route()) {
        model_request(ex, f);
    } else if (lanes_.size() > 1 && rq.method == "GET" &&
               (f.log.path == "/api/tags" || f.log.path == "/api/ps" ||
                f.log.path == "/v1/models")) {
        merged_list(ex, f);
    } else if (lanes_.size() > 1 && names_model_in_body(rq.method, f.log.path)) {
        std::string body;
        if (read_whole(ex, f, body)) {
            std::string model = model_in(json::parse(body, nullptr, false));
            f.body = std::move(body);
            if (route(ex, f, model))
                forward(ex, f);
        }
    } else if (route(ex, f, "")) {
        forward(ex, f);
    }
    finish_log(f);
}

bool Proxy::route(http::Exchange& ex, Forward& f, const std::string& model) {
    if (lanes_.size() == 1 || !router_)
        return true;
    auto i = router_->route(dialect_of(f.log.path), model);
    if (!i) {
        answer_error(ex, f, 404,
                     "modelctl serve: none of the servers it fronts answers " + f.log.path);
        return false;
    }
    f.lane = &lanes_[*i];
    return true;
}

void Proxy::answer_error(http::Exchange& ex, Forward& f, int status, const std::string& message,
                         http::Fields extra) {
    f.log.status = status;
    if (f.log.note.empty())
        f.log.note = message;
    ex.reply(status, "application/json; charset=utf-8", error_body(f.route.api, status, message),
             std::move(extra));
}

void Proxy::finish_log(Forward& f) {
    f.log.ms = std::chrono::duration<double, std::milli>(Clock::now() - f.started).count();
    if (options_.log)
        options_.log(f.log);
}

bool Proxy::read_whole(http::Exchange& ex, Forward& f, std::string& body) {
    const auto& rq = ex.request();
    auto too_large = [&] {
        answer_error(ex, f, 413,
                     "request body larger than " + std::to_string(options_.max_body) +
                         " bytes (serve.max_body)");
        return false;
    };
    if (const std::string* cl = http::find_field(rq.fields, "content-length")) {
        uint64_t n = 0;
        auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
        if (ec == std::errc() && n > options_.max_body)
            return too_large(); // refused before a byte of it is read
    }
    bool over = false;
    bool complete = ex.read_body([&](std::string_view piece) {
        if (body.size() + piece.size() > options_.max_body) {
            over = true;
            return false;
        }
        body.append(piece);
        return true;
    });
    if (over)
        return too_large();
    if (!complete) {
        f.log.note = ex.error();
        f.log.cancelled = true;
        return false;
    }
    return true;
}

void Proxy::model_request(http::Exchange& ex, Forward& f) {
    const auto& rq = ex.request();
    std::string body;
    if (!read_whole(ex, f, body))
        return;
    json j = json::parse(body, nullptr, false);
    auto ask = read_ask(f.route, j);
    if (!ask) { // not a request naming a model: the server answers the mistake
        f.body = std::move(body);
        if (route(ex, f, ""))
            forward(ex, f);
        return;
    }
    if (!route(ex, f, ask->model))
        return;
    const Lane& lane = *f.lane;
    Admission& admission = *lane.admission;
    std::string model = provider::canonical_name(lane.kind, ask->model);
    f.log.model = model;
    auto gone = [&ex] { return ex.client_gone(); };

    if (ask->unload) {
        Admit a = admission.unload(model, gone);
        if (a.verdict == Verdict::ClientGone) {
            f.log.cancelled = true;
            return;
        }
        if (a.verdict != Verdict::Admitted)
            return answer_error(ex, f, a.verdict == Verdict::Failed ? 500 : 503, a.message);
        // What Ollama answers an unload (server/routes.go GenerateHandler, ChatHandler).
        json out = {{"model", ask->model}, {"created_at", util::format_rfc3339(util::now())}};
        if (*f.route.kind == Kind::Chat)
            out["message"] = {{"role", "assistant"}, {"content", ""}};
        else
            out["response"] = "";
        out["done"] = true;
        out["done_reason"] = "unload";
        f.log.status = 200;
        f.log.note = "unloaded";
        ex.reply(200, "application/json; charset=utf-8", dump(out));
        return;
    }

    Admit a = admission.admit(model, gone);
    switch (a.verdict) {
    case Verdict::Admitted:
        break;
    case Verdict::ClientGone:
        f.log.cancelled = true;
        f.log.note = "the client left before its model was loaded";
        return;
    case Verdict::Refused:
        return answer_error(ex, f, 500, "modelctl: " + a.message);
    case Verdict::Backoff:
        return answer_error(ex, f, 503,
                            "modelctl: " + a.message + "; serve tries it again in " +
                                std::to_string(static_cast<long>(std::ceil(a.retry_after))) + "s",
                            {{"Retry-After", std::to_string(static_cast<long>(
                                                 std::max(1.0, std::ceil(a.retry_after))))}});
    case Verdict::QueueFull:
    case Verdict::TimedOut:
        return answer_error(ex, f, 503, "modelctl serve is busy: " + a.message + "; try again",
                            {{"Retry-After", "5"}});
    case Verdict::Failed:
        if (a.error_kind == static_cast<int>(ErrorKind::NotFound))
            return answer_error(ex, f, 404,
                                "model \"" + ask->model + "\" not found, try pulling it first");
        if (a.error_kind == static_cast<int>(ErrorKind::Unreachable))
            return answer_error(ex, f, 502,
                                "modelctl serve: endpoint " + lane.endpoint + " at " + lane.server +
                                    " is down: " + a.message);
        return answer_error(ex, f, 500, a.message);
    }
    struct Release {
        Admission& admission;
        const std::string& model;
        ~Release() { admission.release(model); }
    } release{admission, model};
    f.log.loaded = a.loaded;
    if (!a.evicted.empty()) {
        f.log.note = "evicted";
        for (const auto& v : a.evicted)
            f.log.note += " " + v;
    }

    ModelSettings s = lane.settings ? lane.settings(model) : ModelSettings{};
    bool rewrite = false;
    if (f.route.api == Api::Ollama) {
        if (s.keep_alive) {
            j["keep_alive"] = *s.keep_alive;
            rewrite = true;
        }
        if (s.num_ctx > 0 && !ask->has_num_ctx &&
            (!j.contains("options") || j["options"].is_object())) {
            j["options"]["num_ctx"] = s.num_ctx;
            rewrite = true;
        }
    }
    f.body = rewrite ? dump(j) : std::move(body);
    f.tap.emplace(Clock::now());
    forward(ex, f);
    if (f.route.api == Api::OpenAI && lane.kind == "ollama" && s.keep_alive &&
        f.answered_by_upstream)
        restore_keep_alive(lane, model, s);

    if (!f.answered_by_upstream && !f.log.cancelled)
        return; // no use happened: the server was not reached
    Usage u = f.tap->finish();
    f.log.usage = u;
    store::Event e;
    e.type = "use";
    e.model = model;
    e.server = lane.server;
    e.endpoint = lane.endpoint;
    e.at = util::now();
    e.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - f.started).count();
    e.seconds = e.latency_ms / 1000;
    e.ttft_ms = u.ttft_ms;
    e.tokens_in = u.tokens_in.value_or(0);
    e.tokens_out = u.tokens_out.value_or(0);
    e.eval_seconds = u.eval_seconds.value_or(0);
    e.cancelled = f.log.cancelled;
    e.failed = !e.cancelled && (f.log.status >= 400 || !u.error.empty() || f.broke);
    e.task = ask->task;
    if (const std::string* t = http::find_field(rq.fields, "x-modelctl-task"))
        if (recommend::parse_task(*t))
            e.task = *t;
    recorder_.add(std::move(e));
}

bool Proxy::send_request(http::Exchange& ex, Forward& f, http::Socket& conn) {
    const auto& rq = ex.request();
    http::RequestHead h;
    h.method = rq.method;
    h.target = rq.target;
    // Origin: serve answers for CORS itself (service.cpp), and the server's
    // own origin check must not refuse what serve allowed.
    h.fields = end_to_end(rq.fields, {"host", "content-length", "expect", "origin"});
    if (options_.client_token)
        http::remove_field(h.fields, "authorization");
    h.fields.insert(h.fields.begin(), {"Host", host_field(*f.lane->pool)});
    if (!f.lane->upstream_token.empty())
        http::set_field(h.fields, "Authorization", "Bearer " + f.lane->upstream_token);
    if (f.route.model_route())
        http::remove_field(h.fields, "accept-encoding"); // the tap reads the answer as sent
    bool chunked_in = http::has_token(rq.fields, "transfer-encoding", "chunked");
    if (f.body)
        h.fields.push_back({"Content-Length", std::to_string(f.body->size())});
    else if (chunked_in)
        h.fields.push_back({"Transfer-Encoding", "chunked"});
    else if (const std::string* cl = http::find_field(rq.fields, "content-length"))
        h.fields.push_back({"Content-Length", *cl});
    auto idle = options_.idle_timeout;
    auto gone = [&ex] { return ex.client_gone(); };
    std::string head = http::serialize(h);
    if (f.body && f.body->size() < (64 << 10))
        return http::write_all(conn.fd(), head + *f.body, idle, gone) == http::IoResult::Ok;
    if (http::write_all(conn.fd(), head, idle, gone) != http::IoResult::Ok)
        return false;
    if (f.body)
        return http::write_all(conn.fd(), *f.body, idle, gone) == http::IoResult::Ok;
    // Streamed through (an upload to /api/blobs): never held whole.
    bool upstream_ok = true;
    bool read = ex.read_body([&](std::string_view piece) {
        std::string_view out = piece;
        std::string framed;
        if (chunked_in) {
            char size[20];
            auto [p, ec] = std::to_chars(size, size + sizeof size, piece.size(), 16);
            (void)ec;
            framed.append(size, p).append("\r\n").append(piece).append("\r\n");
            out = framed;
        }
        upstream_ok = http::write_all(conn.fd(), out, idle) == http::IoResult::Ok;
        return upstream_ok;
    });
    if (read && upstream_ok && chunked_in)
        upstream_ok = http::write_all(conn.fd(), "0\r\n\r\n", idle) == http::IoResult::Ok;
    return read && upstream_ok;
}

void Proxy::forward(http::Exchange& ex, Forward& f) {
    const auto& rq = ex.request();
    bool has_body = f.body || http::find_field(rq.fields, "content-length") ||
                    http::find_field(rq.fields, "transfer-encoding");
    bool replayable = f.body || !has_body;
    auto gone = [&ex] { return ex.client_gone(); };
    const Lane& lane = *f.lane;
    auto where = "endpoint " + lane.endpoint + " at " + lane.server;
    std::optional<http::ResponseHead> head;
    http::Socket conn;
    std::optional<http::ResponseReader> reader;
    for (int attempt = 0; attempt < 2 && !head; ++attempt) {
        bool reused = false;
        std::string why;
        conn = lane.pool->acquire(replayable && attempt == 0, reused, why);
        if (!conn.valid())
            return answer_error(ex, f, 502, "modelctl serve: cannot reach " + where + ": " + why);
        if (!send_request(ex, f, conn)) {
            if (reused && replayable)
                continue; // a kept connection the server had closed: once more, afresh
            if (ex.client_gone()) {
                f.log.cancelled = true;
                return;
            }
            return answer_error(ex, f, 502,
                                "modelctl serve: the request could not be sent to " + where);
        }
        reader.emplace(conn.fd(), rq.method, options_.idle_timeout);
        bool nothing = false;
        head = reader->read_head(gone, nothing);
        if (!head) {
            if (ex.client_gone()) {
                f.log.cancelled = true;
                f.answered_by_upstream = f.route.model_route();
                return; // closing the connection cancels the request upstream
            }
            if (reused && nothing && replayable)
                continue;
            return answer_error(ex, f, 502,
                                "modelctl serve: no answer from " + where + ": " + reader->why());
        }
    }
    if (!head)
        return answer_error(ex, f, 502, "modelctl serve: no answer from " + where);
    f.answered_by_upstream = true;
    http::ResponseHead out;
    out.status = head->status;
    out.reason = head->reason;
    out.fields = end_to_end(head->fields, {});
    std::erase_if(out.fields, [](const http::Field& fd) { // serve's CORS, not the server's
        return fd.name.size() > 15 && http::iequals(fd.name.substr(0, 15), "access-control-");
    });
    bool chunked = http::has_token(head->fields, "transfer-encoding", "chunked");
    if (chunked)
        http::remove_field(out.fields, "content-length");
    const std::string* found = http::find_field(out.fields, "content-type");
    std::string content_type = found ? *found : "";
    if (is_stream_type(content_type))
        out.fields.push_back({"X-Accel-Buffering", "no"}); // for an nginx in front
    if (f.tap)
        f.tap->head(content_type);
    f.log.status = head->status;
    // The head goes out with the body's first piece when that came with it
    // (a whole JSON answer: one send); else now, before the wait for it.
    if (!ex.respond(std::move(out)) || (!reader->body_buffered() && !ex.flush())) {
        f.log.cancelled = true;
        return;
    }
    bool client_left = false;
    http::IoResult r = reader->read_body(
        [&](std::string_view piece) {
            if (!ex.write(piece)) {
                client_left = true;
                return false;
            }
            if (f.tap)
                f.tap->feed(piece);
            return true;
        },
        gone);
    if (client_left || r == http::IoResult::Stopped) {
        f.log.cancelled = true;
        f.log.note = "the client left during the answer";
        ex.fail();
        return;
    }
    if (r != http::IoResult::Ok) {
        f.log.note = "the answer broke off: " + reader->why();
        f.broke = true;
        ex.fail();
        return;
    }
    ex.finish();
    if (reader->reusable())
        lane.pool->release(std::move(conn));
}

std::optional<int> Proxy::call(const Lane& lane, const std::string& method,
                               const std::string& target, const std::string& body,
                               std::string& answer, std::string& why) {
    constexpr size_t kMaxAnswer = 32 << 20;
    http::RequestHead h;
    h.method = method;
    h.target = target;
    h.fields = {{"Host", host_field(*lane.pool)}, {"Accept", "application/json"}};
    if (!body.empty())
        h.fields.insert(h.fields.end(), {{"Content-Type", "application/json"},
                                         {"Content-Length", std::to_string(body.size())}});
    if (!lane.upstream_token.empty())
        h.fields.push_back({"Authorization", "Bearer " + lane.upstream_token});
    // A kept connection the server has closed meanwhile: once more, afresh.
    for (int attempt = 0; attempt < 2; ++attempt) {
        bool reused = false;
        http::Socket conn = lane.pool->acquire(attempt == 0, reused, why);
        if (!conn.valid())
            return std::nullopt;
        if (http::write_all(conn.fd(), http::serialize(h) + body, options_.idle_timeout) !=
            http::IoResult::Ok) {
            why = "the request could not be sent";
            if (reused)
                continue;
            return std::nullopt;
        }
        http::ResponseReader reader(conn.fd(), method, options_.idle_timeout);
        bool nothing = false;
        auto head = reader.read_head({}, nothing);
        if (!head) {
            why = reader.why();
            if (reused && nothing)
                continue;
            return std::nullopt;
        }
        answer.clear();
        bool over = false;
        auto r = reader.read_body(
            [&](std::string_view piece) {
                over = answer.size() + piece.size() > kMaxAnswer;
                if (!over)
                    answer.append(piece);
                return !over;
            },
            {});
        if (r != http::IoResult::Ok) {
            why = over ? "its answer is larger than 32 MiB" : reader.why();
            return std::nullopt;
        }
        if (reader.reusable())
            lane.pool->release(std::move(conn));
        why.clear(); // (what a connection that succeeded left in it)
        return head->status;
    }
    return std::nullopt;
}

std::optional<json> Proxy::get_json(const Lane& lane, const std::string& target, std::string& why) {
    std::string answer;
    auto status = call(lane, "GET", target, "", answer, why);
    if (!status)
        return std::nullopt;
    if (*status != 200) {
        why = "it answered " + std::to_string(*status);
        return std::nullopt;
    }
    json j = json::parse(answer, nullptr, false);
    if (j.is_discarded()) {
        why = "its answer is not JSON";
        return std::nullopt;
    }
    return j;
}

namespace {

json details_json(const model::Details& d) {
    return {{"parent_model", d.parent_model},
            {"format", d.format},
            {"family", d.family},
            {"families", d.families.empty() ? json(nullptr) : json(d.families)},
            {"parameter_size", d.parameter_size},
            {"quantization_level", d.quantization_level}};
}

// An LM Studio model as Ollama's /api/tags lists one (docs/api.md).
json tag_entry(const provider::InstalledModel& m) {
    json entry = {{"name", m.name},
                  {"model", m.name},
                  {"size", m.size},
                  {"digest", m.digest},
                  {"details", details_json(m.details)}};
    if (m.modified_at)
        entry["modified_at"] = util::format_rfc3339(*m.modified_at);
    return entry;
}

// A loaded LM Studio model as Ollama's /api/ps lists one; expires_at only
// when the server says (a TTL), size_vram only when it reports memory.
json ps_entry(const provider::LoadedModel& m) {
    json entry = {{"name", m.name},
                  {"model", m.name},
                  {"size", m.size},
                  {"digest", m.digest},
                  {"details", details_json(m.details)}};
    if (m.expiry_reported && m.expires_at)
        entry["expires_at"] = util::format_rfc3339(*m.expires_at);
    if (m.size_reported)
        entry["size_vram"] = m.size_vram;
    if (m.context_length > 0)
        entry["context_length"] = m.context_length;
    return entry;
}

} // namespace

void Proxy::merged_list(http::Exchange& ex, Forward& f) {
    bool openai = f.log.path == "/v1/models";
    bool ps = f.log.path == "/api/ps";
    const char* key = openai ? "data" : "models";
    const char* name_key = openai ? "id" : "name";
    json merged = json::array();
    std::set<std::string> names;
    std::string unreachable;
    size_t answered = 0;
    for (const Lane& lane : lanes_) {
        json items = json::array();
        std::string why;
        if (!openai && lane.kind == "lmstudio") { // Ollama's lists, of LM Studio's models
            try {
                if (ps && lane.loaded)
                    for (const auto& m : lane.loaded())
                        items.push_back(ps_entry(m));
                else if (!ps && lane.installed)
                    for (const auto& m : lane.installed())
                        items.push_back(tag_entry(m));
            } catch (const std::exception& e) {
                why = e.what();
            }
        } else if (auto j = get_json(lane, f.log.path, why)) {
            if (j->is_object() && j->contains(key) && (*j)[key].is_array())
                items = std::move((*j)[key]);
            else
                why = std::string("its answer has no list of ") + key;
        }
        if (!why.empty()) {
            if (!lane.optional) // a default LM Studio that is not running is not news
                unreachable += (unreachable.empty() ? "" : ", ") + lane.endpoint + " (" +
                               lane.server + ": " + why + ")";
            continue;
        }
        ++answered;
        for (auto& m : items) {
            if (!m.is_object() || !m.contains(name_key) || !m[name_key].is_string())
                continue;
            if (names.insert(m[name_key].get<std::string>()).second)
                merged.push_back(std::move(m));
        }
    }
    if (answered == 0)
        return answer_error(
            ex, f, 502,
            "modelctl serve: no server answered: " +
                (unreachable.empty() ? std::string("none is running") : unreachable));
    json out = openai ? json{{"object", "list"}, {"data", merged}} : json{{"models", merged}};
    http::Fields extra;
    if (!unreachable.empty()) {
        extra.push_back({"X-Modelctl-Unreachable", util::printable(unreachable)});
        f.log.note = "left out: " + unreachable;
    }
    f.log.status = 200;
    ex.reply(200, "application/json; charset=utf-8", dump(out), std::move(extra));
}

void Proxy::restore_keep_alive(const Lane& lane, const std::string& model, const ModelSettings& s) {
    // /v1 requests carry no keep_alive, so Ollama set the model's expiry to
    // its default (OLLAMA_KEEP_ALIVE) after this one: a load request (an empty
    // generate) puts serve's back.
    std::string answer, why;
    call(lane, "POST", "/api/generate", dump(json{{"model", model}, {"keep_alive", *s.keep_alive}}),
         answer, why);
}

} // namespace core::serve

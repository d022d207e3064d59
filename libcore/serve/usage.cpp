#include "serve/usage.hpp"

#include "store/state.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace core::serve {

using nlohmann::json;

namespace {

// A count the server reported, when it is a whole number within bounds.
std::optional<uint64_t> count(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number())
        return std::nullopt;
    double v = it->get<double>();
    if (!std::isfinite(v) || v < 0 || v > static_cast<double>(store::kMaxTokens) ||
        v != std::floor(v))
        return std::nullopt;
    return static_cast<uint64_t>(v);
}

std::optional<double> seconds_of_ns(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number())
        return std::nullopt;
    double v = it->get<double>() / 1e9;
    if (!std::isfinite(v) || v < 0 || v > store::kMaxSeconds)
        return std::nullopt;
    return v;
}

bool non_empty_string(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
}

bool non_empty_array(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_array() && !it->empty();
}

// Whether a piece of a streamed answer carries generated text (or thinking,
// or a tool call: tokens the model produced all the same).
bool carries_text(const json& j) {
    if (non_empty_string(j, "response") || non_empty_string(j, "thinking"))
        return true; // Ollama generate
    if (auto m = j.find("message"); m != j.end() && m->is_object())
        if (non_empty_string(*m, "content") || non_empty_string(*m, "thinking") ||
            non_empty_array(*m, "tool_calls"))
            return true; // Ollama chat
    if (auto c = j.find("choices"); c != j.end() && c->is_array() && !c->empty()) {
        const json& first = (*c)[0];
        if (!first.is_object())
            return false;
        if (non_empty_string(first, "text"))
            return true; // /v1/completions
        if (auto d = first.find("delta"); d != first.end() && d->is_object())
            return non_empty_string(*d, "content") || non_empty_string(*d, "reasoning") ||
                   non_empty_string(*d, "reasoning_content") || non_empty_array(*d, "tool_calls");
    }
    // LM Studio's /api/v1/chat stream: {"type": "message.delta", "content": "..."}
    if (auto t = j.find("type");
        t != j.end() && t->is_string() && (*t == "message.delta" || *t == "reasoning.delta"))
        return non_empty_string(j, "content");
    // /v1/responses: {"type": "response.output_text.delta", "delta": "..."}
    return non_empty_string(j, "delta") && j.contains("type");
}

} // namespace

void UsageTap::head(std::string_view content_type) {
    auto ct = content_type.substr(0, content_type.find(';'));
    format_ = ct == "application/x-ndjson" ? Format::Ndjson
              : ct == "text/event-stream"  ? Format::Sse
                                           : Format::Json;
}

void UsageTap::feed(std::string_view piece) {
    if (format_ == Format::Json) {
        if (buffer_.size() + piece.size() > kMaxBody)
            overflow_ = true;
        else
            buffer_.append(piece);
        return;
    }
    while (!piece.empty()) {
        size_t nl = piece.find('\n');
        std::string_view part = piece.substr(0, nl);
        if (!overflow_) {
            if (buffer_.size() + part.size() > kMaxLine) {
                overflow_ = true;
                buffer_.clear();
            } else {
                buffer_.append(part);
            }
        }
        if (nl == std::string_view::npos)
            return;
        if (!overflow_)
            line(buffer_);
        buffer_.clear();
        overflow_ = false;
        piece.remove_prefix(nl + 1);
    }
}

void UsageTap::line(std::string_view l) {
    if (!l.empty() && l.back() == '\r')
        l.remove_suffix(1);
    if (format_ == Format::Sse) {
        if (l.substr(0, 5) != "data:")
            return;
        l.remove_prefix(5);
        if (!l.empty() && l.front() == ' ')
            l.remove_prefix(1);
        if (l == "[DONE]")
            return;
    }
    if (!l.empty())
        object(l);
}

void UsageTap::object(std::string_view text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return;
    if (auto e = j.find("error"); e != j.end()) {
        if (e->is_string())
            usage_.error = e->get<std::string>();
        else if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
            usage_.error = (*e)["message"].get<std::string>();
        else
            usage_.error = "error";
    }
    if (format_ != Format::Json && !usage_.ttft_ms && carries_text(j))
        usage_.ttft_ms = std::chrono::duration<double, std::milli>(Clock::now() - sent_).count();
    // Ollama: the final object of a generation, or an embed answer.
    auto done = j.find("done");
    if ((done != j.end() && done->is_boolean() && done->get<bool>()) ||
        j.contains("prompt_eval_count")) {
        if (auto n = count(j, "prompt_eval_count"))
            usage_.tokens_in = n;
        if (auto n = count(j, "eval_count"))
            usage_.tokens_out = n;
        if (auto s = seconds_of_ns(j, "eval_duration"))
            usage_.eval_seconds = s;
    }
    // OpenAI: usage at the top, or inside the response of response.completed.
    const json* u = nullptr;
    if (auto it = j.find("usage"); it != j.end() && it->is_object())
        u = &*it;
    else if (auto r = j.find("response"); r != j.end() && r->is_object())
        if (auto it2 = r->find("usage"); it2 != r->end() && it2->is_object())
            u = &*it2;
    // LM Studio's native API (its REST docs): "stats" beside the answer. /api/v1/chat:
    // input_tokens, total_output_tokens, tokens_per_second,
    // time_to_first_token_seconds (streamed: in the chat.end event's
    // "result"); /api/v0: tokens_per_second, time_to_first_token and
    // generation_time in seconds (the tokens are in "usage").
    const json* answer = &j;
    if (auto t = j.find("type"); t != j.end() && t->is_string() && *t == "chat.end")
        if (auto r = j.find("result"); r != j.end() && r->is_object())
            answer = &*r;
    if (auto st = answer->find("stats"); st != answer->end() && st->is_object()) {
        if (auto n = count(*st, "input_tokens"))
            usage_.tokens_in = n;
        if (auto n = count(*st, "total_output_tokens"))
            usage_.tokens_out = n;
        auto seconds = [&](const char* key) -> std::optional<double> {
            auto it = st->find(key);
            if (it == st->end() || !it->is_number())
                return std::nullopt;
            double v = it->get<double>();
            if (!std::isfinite(v) || v < 0 || v > store::kMaxSeconds)
                return std::nullopt;
            return v;
        };
        lms_generation_s_ = seconds("generation_time");
        lms_tokens_per_s_ = seconds("tokens_per_second");
        lms_ttft_s_ = seconds("time_to_first_token_seconds");
        if (!lms_ttft_s_)
            lms_ttft_s_ = seconds("time_to_first_token");
    }
    if (u) {
        if (auto n = count(*u, "prompt_tokens"))
            usage_.tokens_in = n;
        if (auto n = count(*u, "input_tokens"))
            usage_.tokens_in = n;
        if (auto n = count(*u, "completion_tokens"))
            usage_.tokens_out = n;
        if (auto n = count(*u, "output_tokens"))
            usage_.tokens_out = n;
    }
}

Usage UsageTap::finish() {
    if (format_ == Format::Json) {
        if (!overflow_ && !buffer_.empty())
            object(buffer_);
    } else if (!overflow_ && !buffer_.empty()) {
        line(buffer_); // a last line without its newline
    }
    buffer_.clear();
    // LM Studio's own times: generation_time, else the output tokens over
    // tokens_per_second; its time to first token for a whole answer.
    if (lms_generation_s_)
        usage_.eval_seconds = lms_generation_s_;
    else if (lms_tokens_per_s_ && *lms_tokens_per_s_ > 0 && usage_.tokens_out)
        usage_.eval_seconds = static_cast<double>(*usage_.tokens_out) / *lms_tokens_per_s_;
    if (!usage_.ttft_ms && lms_ttft_s_)
        usage_.ttft_ms = *lms_ttft_s_ * 1000;
    return usage_;
}

} // namespace core::serve

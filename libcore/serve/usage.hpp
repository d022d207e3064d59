#pragma once
// What an answer passing through the proxy says about its use, read from a
// copy of its bytes after they went to the client (a tap never holds a byte
// back): time to the first piece of text, tokens in and out, and the
// server's own evaluation time, from the counters each API reports:
// - Ollama /api/generate, /api/chat (NDJSON, or one JSON answer): the final
//   `done` object's prompt_eval_count, eval_count, eval_duration (ns);
//   /api/embed: prompt_eval_count;
// - OpenAI-compatible /v1 (SSE, or one JSON answer): `usage` with
//   prompt_tokens/completion_tokens (input_tokens/output_tokens on
//   /v1/responses, inside response.completed when streamed). Ollama sends
//   usage on a stream only when asked (stream_options.include_usage).
// - LM Studio's native routes: `stats` beside the answer (/api/v1/chat
//   streamed: inside the chat.end event's `result`; its text comes in
//   message.delta events).
// Every number is checked (store::kMaxTokens, store::kMaxSeconds); one out of
// bounds is left out rather than recorded. An {"error": ...} in the answer
// (Ollama reports a failure mid-stream that way) marks the use failed.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core::serve {

struct Usage {
    std::optional<double> ttft_ms; // streams only: sent -> first piece of text
    std::optional<uint64_t> tokens_in;
    std::optional<uint64_t> tokens_out;
    std::optional<double> eval_seconds;
    std::string error; // reported inside the answer
};

class UsageTap {
public:
    using Clock = std::chrono::steady_clock;
    // The largest single answer (not a stream) read for its counters; past
    // it the counters are unknown (a big batch of embeddings).
    static constexpr size_t kMaxBody = 16 << 20;
    static constexpr size_t kMaxLine = 1 << 20;

    explicit UsageTap(Clock::time_point sent) : sent_(sent) {}

    // The answer's Content-Type decides how it is read: application/x-ndjson
    // line by line, text/event-stream by its data: lines, else as one JSON.
    void head(std::string_view content_type);
    void feed(std::string_view piece);
    Usage finish();

private:
    enum class Format { Json, Ndjson, Sse };
    void line(std::string_view l);
    void object(const std::string_view text);

    Clock::time_point sent_;
    Format format_ = Format::Json;
    std::string buffer_;
    bool overflow_ = false; // a line or body past its cap: skipped
    Usage usage_;
    std::optional<double> lms_generation_s_, lms_tokens_per_s_, lms_ttft_s_; // LM Studio "stats"
};

} // namespace core::serve

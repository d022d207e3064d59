// Fuzz target: every parser of an Ollama answer (provider/ollama_api.hpp).
// The first byte picks the parser; the rest is the body or stream line. A
// parser may throw core::Error (a malformed answer); anything else (a crash,
// a sanitizer report, another exception) is a finding. What parses must be
// within the bounds the rest of modelctl relies on.
#include "error.hpp"
#include "provider/ollama_api.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace core::provider;

namespace {

void check(bool ok) {
    if (!ok)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        switch (data[0] % 8) {
        case 0:
            for (const auto& m : ollama::parse_tags(body))
                check(m.size <= 1000000000000000ULL);
            break;
        case 1:
            for (const auto& m : ollama::parse_ps(body))
                check(m.size_vram <= m.size && m.context_length >= 0 &&
                      m.context_length <= (1 << 30) &&
                      m.expiry_reported == m.expires_at.has_value());
            break;
        case 2:
            ollama::parse_show("m", body);
            break;
        case 3:
            ollama::parse_version(body);
            break;
        case 4: {
            auto c = ollama::parse_generate_line(body, "m");
            check(c.metrics.eval_count >= 0 && c.metrics.eval_duration >= 0);
            break;
        }
        case 5:
            ollama::parse_pull_line(body, "m", "http://127.0.0.1:11434");
            break;
        case 6:
            ollama::map_error(500, body, "m", "http://127.0.0.1:11434");
            break;
        default: {
            auto msg = ollama::error_message(400, body);
            for (char c : msg) // escaped: nothing a terminal would act on
                check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
            break;
        }
        }
    } catch (const core::Error&) {
    }
    return 0;
}

// Fuzz target: the NDJSON/SSE line splitter (http/client.hpp), differential.
// Fed the input in pieces whose sizes come from the input, it must hand on
// exactly the lines a plain split at '\n' gives (a trailing '\r' dropped,
// empty lines skipped, the last line without its newline kept), or refuse
// a line past its cap: never a different answer.
#include "error.hpp"
#include "http/client.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2)
        return 0;
    const size_t cap = 64;
    size_t step = data[0] % 17 + 1;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

    std::vector<std::string> expected;
    bool too_long = false;
    size_t start = 0;
    while (start <= text.size()) {
        size_t nl = text.find('\n', start);
        std::string_view line =
            text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        if (line.size() > cap)
            too_long = true;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (!line.empty())
            expected.emplace_back(line);
        if (nl == std::string_view::npos)
            break;
        start = nl + 1;
    }

    std::vector<std::string> got;
    auto take = [&](std::string_view l) { got.emplace_back(l); };
    core::http::LineSplitter lines("fuzz", cap);
    try {
        for (size_t i = 0; i < text.size(); i += step)
            lines.feed(text.substr(i, step), take);
        lines.finish(take);
    } catch (const core::Error&) {
        if (!too_long)
            std::abort(); // refused a stream whose every line is within the cap
        return 0;
    }
    if (too_long || got != expected)
        std::abort();
    return 0;
}

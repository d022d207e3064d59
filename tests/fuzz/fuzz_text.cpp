// Fuzz target: the small parsers of user input: durations, keep-alives,
// sizes, RFC 3339 times, OLLAMA_HOST. Each either refuses or gives a value
// that formats and, where the format is meant to, reads back the same.
#include "error.hpp"
#include "provider/ollama_host.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"
#include "util/text.hpp"
#include "util/timestamp.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace core::util;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    std::string_view s(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 6) {
    case 0:
        if (auto d = parse_duration(s)) {
            if (!(d->count() >= 0 && d->count() <= kMaxDuration.count()))
                std::abort();
            format_duration(*d);
        }
        parse_go_duration(s);
        break;
    case 1:
        if (auto k = parse_keep_alive(s))
            k->json_seconds();
        break;
    case 2:
        if (auto n = parse_size(s))
            format_size(*n);
        break;
    case 3:
        if (auto t = parse_rfc3339(s)) {
            auto back = parse_rfc3339(format_rfc3339(*t));
            if (!back || *back != *t)
                std::abort(); // what is written must read back the same
        }
        break;
    case 4:
        try {
            auto e = core::provider::parse_ollama_host(s);
            e.url();
        } catch (const core::Error&) {
        }
        break;
    default: {
        auto p = printable(s);
        for (size_t i = 0; i < p.size(); ++i) {
            auto c = static_cast<unsigned char>(p[i]);
            if (c < 0x20 || c == 0x7f ||
                (c == 0xc2 && i + 1 < p.size() &&
                 (static_cast<unsigned char>(p[i + 1]) & 0xe0) == 0x80))
                std::abort(); // a control character got through
        }
        break;
    }
    }
    return 0;
}

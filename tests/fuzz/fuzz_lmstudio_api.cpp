// Fuzz target: every parser of an LM Studio answer (provider/lmstudio_api.hpp).
// The first byte picks the parser. core::Error is a clean refusal; anything
// else is a finding.
#include "error.hpp"
#include "provider/lmstudio_api.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace core::provider;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        switch (data[0] % 6) {
        case 0:
            for (const auto& m : lmstudio::parse_models_v1(body))
                if (m.max_context_length < 0)
                    std::abort();
            break;
        case 1:
            lmstudio::parse_models_v0(body);
            break;
        case 2:
            lmstudio::parse_load(body);
            break;
        case 3:
            lmstudio::parse_chat(body);
            break;
        case 4:
            lmstudio::parse_embeddings(body);
            break;
        default:
            lmstudio::map_error(400, body, "m", "http://127.0.0.1:1234", "LM_API_TOKEN");
            break;
        }
    } catch (const core::Error&) {
    }
    return 0;
}

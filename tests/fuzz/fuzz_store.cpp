// Fuzz target: the store's state file and event log lines (store/store.hpp).
// A state that parses must be within bounds, write back, and read back the
// same (a round trip); an event that parses must be a recordable use or
// another type, never out of bounds.
#include "error.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>

using namespace core::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded())
        return 0;
    if (data[0] % 2 == 0) {
        try {
            State s = state_from_json(j);
            auto again = to_json(s);
            State back = state_from_json(again);
            if (to_json(back) != again)
                std::abort(); // what is written must read back the same
            for (const auto& [name, m] : s.models) {
                if (m.priority && (*m.priority < 0 || *m.priority > 9))
                    std::abort();
                if (m.usage.failures > m.usage.uses)
                    std::abort();
            }
        } catch (const core::Error&) {
        }
    } else if (auto e = event_from_json(j); e && e->type == "use") {
        if (!invalid_use(*e).empty())
            std::abort(); // the log reader let through what record refuses
    }
    return 0;
}

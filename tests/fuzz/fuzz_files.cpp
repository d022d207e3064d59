// Fuzz target: files a user hands modelctl: the config file, the trace and
// catalog CSVs of `simulate`, the lines of `record --batch`, chain files. Each either
// refuses with core::Error (a message naming the place) or gives values
// within their bounds.
#include "config/config.hpp"
#include "environment.hpp"
#include "error.hpp"
#include "operations/chain.hpp"
#include "policy/replay.hpp"
#include "registry/batch.hpp"
#include "store/store.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        switch (data[0] % 5) {
        case 0: {
            static const std::string path =
                "/tmp/modelctl-fuzz-config-" + std::to_string(::getpid()) + ".json";
            std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
            core::config::load(core::Environment(), path, {});
            break;
        }
        case 1: {
            std::istringstream in(text);
            for (const auto& c : core::policy::parse_catalog_csv(in, "catalog"))
                if (!std::isfinite(c.load_seconds) || c.load_seconds < 0)
                    std::abort();
            break;
        }
        case 2: {
            std::vector<core::policy::CatalogEntry> catalog = {{"a", 1000, 1.0}, {"b", 2000, 2.0}};
            std::istringstream in(text);
            for (const auto& r : core::policy::parse_trace_csv(in, "trace", catalog))
                if (!std::isfinite(r.time))
                    std::abort();
            break;
        }
        case 4: {
            auto chain = core::operations::parse_chain(text, "fuzz");
            std::vector<std::string> answers;
            for (const auto& s : chain.steps) {
                if (s.model.empty() || s.prompt.empty() || s.num_ctx < 0)
                    std::abort();
                answers.push_back(core::operations::render_prompt(s.prompt, "in", answers));
            }
            break;
        }
        default: {
            auto e = core::registry::parse_use_line(text, "batch:1", core::util::now());
            if (!core::store::invalid_use(e).empty())
                std::abort(); // accepted a use the store refuses
            break;
        }
        }
    } catch (const core::Error&) {
    }
    return 0;
}

#include "registry/batch.hpp"

#include "error.hpp"
#include "recommend/recommend.hpp"

#include <nlohmann/json.hpp>

namespace core::registry {

std::string check_task(const std::string& task) {
    if (task.empty() || recommend::parse_task(task))
        return task;
    throw Error(ErrorKind::Usage, "unknown task '" + task + "'",
                "one of " + std::string(recommend::kTaskNames));
}

store::Event parse_use_line(std::string_view line, const std::string& where, util::Timestamp now) {
    auto bad = [&](const std::string& why) {
        return Error(ErrorKind::Usage, where + ": " + why,
                     "each line is {\"model\": ..., \"latency_ms\": ..., [\"tokens\", "
                     "\"tokens_in\", \"ttft_ms\", \"eval_ms\", \"failed\", \"task\", \"at\"]}");
    };
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw bad("not a JSON object");
    store::Event e;
    e.type = "use";
    e.at = now;
    for (const auto& [k, v] : j.items()) {
        if (k == "model" && v.is_string() && !v.get<std::string>().empty())
            e.model = v.get<std::string>();
        else if (k == "latency_ms" && v.is_number() && v.get<double>() >= 0)
            e.latency_ms = v.get<double>();
        else if (k == "ttft_ms" && v.is_number() && v.get<double>() >= 0)
            e.ttft_ms = v.get<double>();
        else if (k == "eval_ms" && v.is_number() && v.get<double>() >= 0)
            e.eval_seconds = v.get<double>() / 1000;
        else if ((k == "tokens" || k == "tokens_out") && v.is_number_unsigned())
            e.tokens_out = v.get<uint64_t>();
        else if (k == "tokens_in" && v.is_number_unsigned())
            e.tokens_in = v.get<uint64_t>();
        else if (k == "failed" && v.is_boolean())
            e.failed = v.get<bool>();
        else if (k == "task" && v.is_string()) {
            try {
                e.task = check_task(v.get<std::string>());
            } catch (const core::Error& err) {
                throw bad(err.what());
            }
        } else if (k == "at" && v.is_string()) {
            auto t = util::parse_rfc3339(v.get<std::string>());
            if (!t)
                throw bad("'at' is not an RFC 3339 time");
            e.at = *t;
        } else
            throw bad("bad or unknown field '" + k + "': " + v.dump());
    }
    if (e.model.empty())
        throw bad("no model");
    if (!j.contains("latency_ms"))
        throw bad("no latency_ms");
    if (auto why = store::invalid_use(e); !why.empty())
        throw bad(why);
    return e;
}

} // namespace core::registry

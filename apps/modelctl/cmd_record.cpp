#include "cmd_record.hpp"

#include "error.hpp"
#include "output.hpp"
#include "recommend/recommend.hpp"
#include "registry/registry.hpp"
#include "util/timestamp.hpp"

#include <fstream>
#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;

namespace {

std::string check_task(const std::string& task) {
    if (task.empty() || core::recommend::parse_task(task))
        return task;
    throw core::Error(core::ErrorKind::Usage, "unknown task '" + task + "'",
                      "one of " + std::string(core::recommend::kTaskNames));
}

// One JSON line of a batch; throws Error{Usage} naming the line.
core::store::Event parse_line(const std::string& line, const std::string& where,
                              core::util::Timestamp now) {
    auto bad = [&](const std::string& why) {
        return core::Error(
            core::ErrorKind::Usage, where + ": " + why,
            "each line is {\"model\": ..., \"latency_ms\": ..., [\"tokens\", "
            "\"tokens_in\", \"ttft_ms\", \"eval_ms\", \"failed\", \"task\", \"at\"]}");
    };
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw bad("not a JSON object");
    core::store::Event e;
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
            auto t = core::util::parse_rfc3339(v.get<std::string>());
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
    if (auto why = core::store::invalid_use(e); !why.empty())
        throw bad(why);
    return e;
}

} // namespace

void setup_record(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<RecordOptions>();
    auto* sub = app.add_subcommand("record", "Record a use of a model made outside modelctl");
    sub->add_option("model", opts->model, "The model used");
    sub->add_option("--latency-ms", opts->latency_ms, "Wall time of the request, ms")
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--ttft-ms", opts->ttft_ms, "Time to first token, ms")
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--tokens", opts->tokens, "Tokens generated");
    sub->add_option("--eval-ms", opts->eval_ms,
                    "Time spent generating them, ms (Ollama's eval_duration), for tokens/s")
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--tokens-in", opts->tokens_in, "Prompt tokens");
    sub->add_flag("--failed", opts->failed, "The request failed");
    sub->add_option("--task", opts->task, "chat, coding, vision, embedding, reasoning or tools");
    sub->add_option("--at", opts->at, "When, RFC 3339 (default: now)");
    sub->add_option("--batch", opts->batch,
                    "Import JSON lines from FILE or - (stdin); all or nothing");
    sub->callback([&ctx, opts] { ctx.exit_code = run_record(ctx, *opts); });
}

int run_record(Context& ctx, const RecordOptions& o) {
    auto now = core::util::now();
    std::vector<core::store::Event> uses;
    if (!o.batch.empty()) {
        if (!o.model.empty() || o.latency_ms || o.eval_ms || o.failed || !o.task.empty() ||
            !o.at.empty())
            throw core::Error(core::ErrorKind::Usage,
                              "--batch takes everything from its lines; drop the other options");
        std::ifstream file;
        if (o.batch != "-") {
            file.open(o.batch);
            if (!file)
                throw core::Error(core::ErrorKind::Usage, "cannot read " + o.batch);
        }
        std::istream& in = o.batch == "-" ? std::cin : file;
        std::string name = o.batch == "-" ? "stdin" : o.batch;
        std::string line;
        for (size_t n = 1; std::getline(in, line); ++n)
            if (line.find_first_not_of(" \t\r") != std::string::npos)
                uses.push_back(parse_line(line, name + ":" + std::to_string(n), now));
    } else {
        if (o.model.empty() || !o.latency_ms)
            throw core::Error(core::ErrorKind::Usage, "record needs MODEL and --latency-ms",
                              "or --batch FILE to import JSON lines");
        core::store::Event e;
        e.type = "use";
        e.model = o.model;
        e.at = now;
        if (!o.at.empty()) {
            auto t = core::util::parse_rfc3339(o.at);
            if (!t)
                throw core::Error(core::ErrorKind::Usage,
                                  "--at: '" + o.at + "' is not an RFC 3339 time",
                                  "e.g. 2026-11-23T09:30:00Z");
            e.at = *t;
        }
        e.latency_ms = *o.latency_ms;
        e.ttft_ms = o.ttft_ms;
        e.tokens_out = o.tokens;
        e.eval_seconds = o.eval_ms.value_or(0) / 1000;
        e.tokens_in = o.tokens_in;
        e.failed = o.failed;
        e.task = check_task(o.task);
        if (auto why = core::store::invalid_use(e); !why.empty())
            throw core::Error(core::ErrorKind::Usage, "cannot record this use: " + why);
        uses.push_back(e);
    }
    for (auto& e : uses) // as the endpoint's server names it, as a load would record it
        e.model = ctx.canonical(e.model);
    auto store = ctx.store();
    if (!uses.empty())
        core::registry::record_uses(store, uses);
    if (ctx.global.json)
        print_json({{"schema", "modelctl.record/v1"}, {"recorded", uses.size()}});
    else if (!ctx.global.quiet)
        std::cout << "recorded " << uses.size() << (uses.size() == 1 ? " use" : " uses") << "\n";
    return 0;
}

} // namespace modelctl

#include "cmd_record.hpp"

#include "commands.hpp"
#include "error.hpp"
#include "output.hpp"
#include "recommend/recommend.hpp"
#include "registry/batch.hpp"
#include "registry/registry.hpp"
#include "util/timestamp.hpp"

#include <fstream>
#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;

void setup_record(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<RecordOptions>();
    auto* sub = app.add_subcommand("record", "Record a use of a model made outside modelctl");
    sub->add_option("model", opts->model, "The model used");
    sub->add_option("--latency-ms", opts->latency_ms, "Wall time of the request, ms")
        ->check(non_negative_number());
    sub->add_option("--ttft-ms", opts->ttft_ms, "Time to first token, ms")
        ->check(non_negative_number());
    sub->add_option("--tokens", opts->tokens, "Tokens generated");
    sub->add_option("--eval-ms", opts->eval_ms,
                    "Time spent generating them, ms (Ollama's eval_duration), for tokens/s")
        ->check(non_negative_number());
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
                uses.push_back(
                    core::registry::parse_use_line(line, name + ":" + std::to_string(n), now));
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
        e.task = core::registry::check_task(o.task);
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

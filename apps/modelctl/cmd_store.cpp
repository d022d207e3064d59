#include "cmd_store.hpp"

#include "error.hpp"
#include "output.hpp"
#include "util/size.hpp"

#include <filesystem>
#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

uint64_t bytes_of(const fs::path& p) {
    std::error_code ec;
    auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

} // namespace

void setup_store(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<StoreOptions>();
    auto* sub = app.add_subcommand("store", "Show where modelctl keeps its state, and check it");
    sub->add_flag("--repair", opts->repair,
                  "Move an unreadable state file aside (kept as state.json.corrupt-*) and start "
                  "afresh");
    sub->callback([&ctx, opts] { ctx.exit_code = run_store(ctx, *opts); });
}

int run_store(Context& ctx, const StoreOptions& o) {
    auto store = ctx.store();
    core::store::RepairReport repaired;
    if (o.repair)
        repaired = store.repair();
    // What every command relies on: the state reads (every value in bounds),
    // the log agrees with its mark, and both can be written. Each throws
    // with a hint when not.
    auto state = store.read();
    auto log = store.read_events();
    if (std::filesystem::exists(store.dir()))
        store.check_writable();
    const auto& moved = repaired.moved_to;

    if (ctx.global.json) {
        print_json({{"schema", "modelctl.store/v1"},
                    {"dir", store.dir().string()},
                    {"state",
                     {{"path", store.state_path().string()},
                      {"schema_version", core::store::kSchemaVersion},
                      {"models", state.models.size()},
                      {"bytes", bytes_of(store.state_path())}}},
                    {"events",
                     {{"path", store.events_path().string()},
                      {"count", log.events.size()},
                      {"unreadable", log.skipped},
                      {"bytes", bytes_of(store.events_path())}}},
                    {"repaired", moved ? json(moved->string()) : json(nullptr)},
                    {"log_replaced", repaired.log_replaced},
                    {"uses_rebuilt", repaired.uses_folded}});
        return 0;
    }
    if (ctx.global.quiet) {
        std::cout << store.dir().string() << "\n";
        return 0;
    }
    if (moved)
        std::cout << "moved the unreadable state file to " << moved->string()
                  << "; a new one holds the " << repaired.uses_folded
                  << " use(s) rebuilt from the log\n";
    else if (repaired.log_replaced)
        std::cout << "the usage log had been replaced; folded in the " << repaired.uses_folded
                  << " use(s) newer than what the state held\n";
    else if (o.repair)
        std::cout << "the state file is healthy; nothing to repair\n";
    std::cout << "store    " << store.dir().string() << "\n"
              << "state    " << state.models.size() << " models known, schema "
              << core::store::kSchemaVersion << ", "
              << core::util::format_size(bytes_of(store.state_path())) << "\n"
              << "events   " << log.events.size() << " recorded, "
              << core::util::format_size(bytes_of(store.events_path())) << "\n";
    if (log.skipped)
        std::cout << "         " << log.skipped
                  << " unreadable line(s) skipped (a write cut short by a crash)\n";
    return 0;
}

} // namespace modelctl

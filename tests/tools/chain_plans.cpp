// chain_plans CATALOG.csv: the chain planner (policy/chain.hpp) against the
// two naive rules, unloading after every step and keeping a model only for an
// identical next step, in loading seconds, on chains over a model catalog
// (model,size_bytes,load_s): the seed pattern (analysis -> deep reasoning ->
// summary, repeated) at several budgets, and random chains. Prints Markdown
// tables for docs/PERFORMANCE.md; exits 1 when the plan loads more than
// either rule on any chain.
#include "error.hpp"
#include "policy/chain.hpp"
#include "policy/replay.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

using core::policy::ChainInput;
using core::policy::ChainPlan;

constexpr uint64_t GB = 1000000000ULL;

ChainInput chain_of(const std::vector<core::policy::CatalogEntry>& catalog,
                    const std::vector<size_t>& steps, uint64_t capacity) {
    ChainInput in;
    in.capacity = capacity;
    std::map<size_t, size_t> index;
    for (size_t c : steps) {
        auto [it, fresh] = index.emplace(c, in.models.size());
        if (fresh)
            in.models.push_back({catalog[c].name, catalog[c].bytes, catalog[c].load_seconds});
        in.steps.push_back(it->second);
    }
    return in;
}

struct Totals {
    double plan = 0, every = 0, next = 0;
    size_t chains = 0, worse = 0;
    void add(const ChainPlan& p) {
        plan += p.plan.seconds;
        every += p.unload_every_step.seconds;
        next += p.keep_if_next_same.seconds;
        ++chains;
        if (p.plan.seconds > p.unload_every_step.seconds + 1e-9 ||
            p.plan.seconds > p.keep_if_next_same.seconds + 1e-9)
            ++worse;
    }
};

std::string pct(double plan, double naive) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f%%", naive > 0 ? 100.0 * (1 - plan / naive) : 0.0);
    return buf;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: chain_plans CATALOG.csv\n";
        return 2;
    }
    std::ifstream file(argv[1]);
    std::vector<core::policy::CatalogEntry> catalog;
    try {
        catalog = core::policy::parse_catalog_csv(file, argv[1]);
    } catch (const core::Error& e) {
        std::cerr << "chain_plans: " << e.what() << "\n";
        return 2;
    }
    auto find = [&](const std::string& name) {
        for (size_t i = 0; i < catalog.size(); ++i)
            if (catalog[i].name == name)
                return i;
        std::cerr << "chain_plans: the catalog has no " << name << "\n";
        std::exit(2);
    };
    size_t worse = 0;

    // The seed pattern, five rounds.
    const std::vector<std::string> pattern = {"gemma3:12b", "llama3.3:70b", "llama3.2:3b"};
    std::vector<size_t> steps;
    for (int round = 0; round < 5; ++round)
        for (const auto& m : pattern)
            steps.push_back(find(m));
    std::cout << "Seed pattern: analysis (gemma3:12b) -> deep reasoning (llama3.3:70b) -> "
                 "summary (llama3.2:3b), 5 rounds, 15 steps:\n\n"
              << "| budget | plan | unload after every step | keep if next is same | "
                 "fewer than keep-if-next |\n| --- | --- | --- | --- | --- |\n";
    for (uint64_t budget : {46 * GB, 52 * GB, 64 * GB}) {
        auto p = core::policy::plan_chain(chain_of(catalog, steps, budget));
        Totals t;
        t.add(p);
        worse += t.worse;
        char line[256];
        std::snprintf(line, sizeof line,
                      "| %llu GB | %.1f s (%zu loads) | %.1f s (%zu) | %.1f s (%zu) | %s |\n",
                      static_cast<unsigned long long>(budget / GB), p.plan.seconds, p.plan.loads,
                      p.unload_every_step.seconds, p.unload_every_step.loads,
                      p.keep_if_next_same.seconds, p.keep_if_next_same.loads,
                      pct(p.plan.seconds, p.keep_if_next_same.seconds).c_str());
        std::cout << line;
    }

    // Random chains: 500 per budget, 6 to 20 steps, models drawn uniformly
    // from those that fit the budget alone; seeded, so every run draws the same.
    std::cout << "\nRandom chains, 500 per budget, 6-20 steps over the catalog's models that "
                 "fit the budget:\n\n"
              << "| budget | plan | unload after every step | keep if next is same | "
                 "fewer than keep-if-next | chains worse than a naive rule |\n"
              << "| --- | --- | --- | --- | --- | --- |\n";
    std::mt19937 rng(1);
    for (uint64_t budget : {16 * GB, 24 * GB, 48 * GB, 64 * GB}) {
        std::vector<size_t> fitting;
        for (size_t i = 0; i < catalog.size(); ++i)
            if (catalog[i].bytes <= budget)
                fitting.push_back(i);
        Totals t;
        for (int c = 0; c < 500; ++c) {
            size_t length = 6 + rng() % 15;
            std::vector<size_t> chain;
            for (size_t s = 0; s < length; ++s)
                chain.push_back(fitting[rng() % fitting.size()]);
            t.add(core::policy::plan_chain(chain_of(catalog, chain, budget)));
        }
        worse += t.worse;
        char line[256];
        std::snprintf(line, sizeof line, "| %llu GB | %.0f s | %.0f s | %.0f s | %s | %zu |\n",
                      static_cast<unsigned long long>(budget / GB), t.plan, t.every, t.next,
                      pct(t.plan, t.next).c_str(), t.worse);
        std::cout << line;
    }
    if (worse > 0) {
        std::cerr << "chain_plans: the plan loaded more than a naive rule on " << worse
                  << " chains\n";
        return 1;
    }
    return 0;
}

#include "bench/bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace core::bench {

std::string hash_text(const std::string& text) {
    uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
}

std::string run_prompt(const std::string& prompt, int index) {
    return (index == 0 ? std::string("Warm-up. ") : "Run " + std::to_string(index) + ". ") + prompt;
}

Spread spread(std::vector<double> values) {
    if (values.empty())
        return {};
    std::sort(values.begin(), values.end());
    size_t n = values.size();
    double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return {values.front(), median, values.back()};
}

void summarize(const std::vector<Sample>& samples, Result& result) {
    auto field = [&](double Sample::*member) {
        std::vector<double> v;
        v.reserve(samples.size());
        for (const auto& s : samples)
            v.push_back(s.*member);
        return spread(std::move(v));
    };
    result.ttft_ms = field(&Sample::ttft_ms);
    result.total_ms = field(&Sample::total_ms);
    result.prompt_tokens_per_second = field(&Sample::prompt_tokens_per_second);
    result.tokens_per_second = field(&Sample::tokens_per_second);
    std::vector<double> tokens;
    for (const auto& s : samples)
        tokens.push_back(static_cast<double>(s.tokens));
    result.tokens = spread(std::move(tokens)).median;
}

std::vector<Change> compare(const Result& before, const Result& after, double threshold) {
    std::vector<Change> out;
    // higher_better: tokens/s; the others are times.
    auto add = [&](const char* figure, double b, double a, bool higher_better) {
        if (b <= 0 || a <= 0)
            return;
        Change c{figure, b, a, higher_better ? (b - a) / b : (a - b) / b, false};
        c.regressed = c.worse > threshold;
        out.push_back(c);
    };
    add("tokens_per_second", before.tokens_per_second.median, after.tokens_per_second.median, true);
    add("prompt_tokens_per_second", before.prompt_tokens_per_second.median,
        after.prompt_tokens_per_second.median, true);
    add("ttft_ms", before.ttft_ms.median, after.ttft_ms.median, false);
    add("total_ms", before.total_ms.median, after.total_ms.median, false);
    if (before.load_seconds && after.load_seconds)
        add("load_seconds", *before.load_seconds, *after.load_seconds, false);
    return out;
}

const Result* previous(const std::vector<Result>& history, const Settings& settings,
                       const std::string& digest) {
    for (auto it = history.rbegin(); it != history.rend(); ++it)
        if (!it->regressed && it->settings.comparable(settings) &&
            (digest.empty() || it->digest == digest))
            return &*it;
    return nullptr;
}

std::vector<Sample> measure(provider::Provider& provider, const std::string& model,
                            const std::string& prompt, const Settings& settings,
                            const std::optional<util::KeepAlive>& keep_alive,
                            const std::function<void(const Progress&)>& on_progress) {
    using clock = std::chrono::steady_clock;
    auto ms_since = [](clock::time_point t) {
        return std::chrono::duration<double, std::milli>(clock::now() - t).count();
    };
    std::vector<Sample> samples;
    for (int i = 0; i <= settings.runs; ++i) {
        if (on_progress)
            on_progress({i, settings.runs});
        provider::GenerateRequest req;
        req.model = model;
        req.prompt = run_prompt(prompt, i);
        req.keep_alive = keep_alive;
        req.num_ctx = settings.num_ctx;
        req.num_predict = settings.num_predict;
        auto start = clock::now();
        std::optional<double> ttft;
        auto m = provider.generate(req, [&](std::string_view text) {
            if (!ttft && !text.empty())
                ttft = ms_since(start);
        });
        double total = ms_since(start);
        if (i == 0)
            continue; // the warm-up
        Sample s;
        s.total_ms = total;
        s.ttft_ms = ttft.value_or(total); // no text at all: the answer came whole at the end
        s.prompt_tokens = m.prompt_eval_count;
        s.tokens = m.eval_count;
        s.prompt_tokens_per_second = m.prompt_tokens_per_second();
        s.tokens_per_second = m.tokens_per_second();
        samples.push_back(s);
    }
    return samples;
}

} // namespace core::bench

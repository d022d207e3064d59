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
    std::vector<double> per_token;
    for (const auto& s : samples)
        if (s.ms_per_token > 0)
            per_token.push_back(s.ms_per_token);
    result.ms_per_token = spread(std::move(per_token));
    std::vector<double> tokens;
    for (const auto& s : samples)
        tokens.push_back(static_cast<double>(s.tokens));
    result.tokens = spread(std::move(tokens)).median;
}

std::vector<Change> compare(const Result& before, const Result& after, double threshold) {
    std::vector<Change> out;
    // higher_better: rates; the others are times.
    auto add = [&](const char* figure, const Spread& b, const Spread& a, bool higher_better,
                   bool gated) {
        if (b.median <= 0 || a.median <= 0)
            return;
        Change c{
            figure,
            b.median,
            a.median,
            higher_better ? (b.median - a.median) / b.median : (a.median - b.median) / b.median,
            gated,
            false,
            ""};
        // Every new run worse than every earlier one.
        bool apart = higher_better ? a.max < b.min : a.min > b.max;
        if (gated && threshold > 0 && c.worse > threshold && apart) {
            c.regressed = true;
            char buf[160];
            std::snprintf(buf, sizeof buf,
                          "%.1f%% worse, past the limit of %.1f%%; every run %s than the %s "
                          "before (%.4g %s %.4g)",
                          c.worse * 100, threshold * 100, higher_better ? "slower" : "longer",
                          higher_better ? "slowest" : "longest", higher_better ? a.max : a.min,
                          higher_better ? "<" : ">", higher_better ? b.min : b.max);
            c.why = buf;
        }
        out.push_back(c);
    };
    add("tokens_per_second", before.tokens_per_second, after.tokens_per_second, true, true);
    add("prompt_tokens_per_second", before.prompt_tokens_per_second, after.prompt_tokens_per_second,
        true, true);
    add("ttft_ms", before.ttft_ms, after.ttft_ms, false, true);
    add("ms_per_token", before.ms_per_token, after.ms_per_token, false, true);
    add("total_ms", before.total_ms, after.total_ms, false, false);
    if (before.load_seconds && after.load_seconds) {
        Spread b{*before.load_seconds, *before.load_seconds, *before.load_seconds};
        Spread a{*after.load_seconds, *after.load_seconds, *after.load_seconds};
        add("load_seconds", b, a, false, true);
    }
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
        if (s.tokens > 1 && ttft)
            s.ms_per_token = (total - *ttft) / static_cast<double>(s.tokens - 1);
        samples.push_back(s);
    }
    return samples;
}

} // namespace core::bench

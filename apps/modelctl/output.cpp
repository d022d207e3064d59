#include "output.hpp"

#include "util/duration.hpp"
#include "util/size.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace modelctl {

using json = nlohmann::ordered_json;
using core::util::Timestamp;

void Table::print(std::ostream& out, bool color) const {
    std::vector<size_t> width(headers_.size(), 0);
    for (size_t i = 0; i < headers_.size(); ++i)
        width[i] = headers_[i].size();
    for (const auto& r : rows_)
        for (size_t i = 0; i < r.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    auto line = [&](const std::vector<std::string>& cells, bool header) {
        std::string s;
        for (size_t i = 0; i < cells.size(); ++i) {
            bool last = i + 1 == cells.size();
            std::string cell = cells[i];
            if (!last)
                cell.resize(width[i] + 3, ' ');
            s += cell;
        }
        while (!s.empty() && s.back() == ' ')
            s.pop_back();
        if (header && color)
            s = "\033[1m" + s + "\033[0m";
        out << s << "\n";
    };
    line(headers_, true);
    for (const auto& r : rows_)
        line(r, false);
}

void print_json(const json& j) {
    std::cout << j.dump(2) << std::endl;
}

std::string until_text(const std::optional<Timestamp>& expires_at, Timestamp now) {
    using core::provider::Expiry;
    switch (core::provider::classify_expiry(expires_at, now)) {
    case Expiry::Never:
        return "Never";
    case Expiry::Forever:
        return "Forever";
    case Expiry::Stopping:
        return "Stopping...";
    case Expiry::At:
        break;
    }
    return core::util::human_time(*expires_at, now); // "4 minutes from now", as ollama ps
}

std::string elapsed_text(double seconds) {
    if (seconds >= 60 || seconds < 1) // "4m12s"; "36ms"
        return core::util::format_duration(core::util::Seconds(seconds));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    return buf;
}

std::string ago_text(const std::optional<Timestamp>& t, Timestamp now) {
    if (!t)
        return "-";
    if (*t >= now)
        return "now";
    return elapsed_text(std::chrono::duration<double>(now - *t).count());
}

json server_json(const core::provider::Provider& server, const std::string& version) {
    return {{"kind", server.kind()},
            {"address", server.address()},
            {"version", version.empty() ? json(nullptr) : json(version)}};
}

json details_json(const core::provider::ModelDetails& d) {
    return {{"format", d.format},
            {"family", d.family},
            {"families", d.families},
            {"parameter_size", d.parameter_size},
            {"quantization_level", d.quantization_level}};
}

json time_json(const std::optional<Timestamp>& t) {
    return t ? json(core::util::format_rfc3339(*t)) : json(nullptr);
}

std::string loaded_text(const core::provider::LoadedModel& m, Timestamp now) {
    std::string out = m.size_reported
                          ? core::util::format_size(m.size) + ", " +
                                core::provider::processor_label(m.size, m.size_vram)
                          : "~" + core::util::format_size(m.size) + " (file size), placement";
    if (m.expiry_reported)
        return out + ", until: " + until_text(m.expires_at, now);
    return out + (m.size_reported ? ", expiry" : " and expiry") + " not reported";
}

json loaded_json(const core::provider::LoadedModel& m, Timestamp now) {
    using core::provider::Expiry;
    auto expiry = core::provider::classify_expiry(m.expires_at, now);
    static const char* names[] = {"never", "forever", "stopping", "at"};
    json expires_in = nullptr;
    if (expiry == Expiry::At)
        expires_in = std::chrono::duration<double>(*m.expires_at - now).count();
    return {{"name", m.name},
            {"digest", m.digest},
            {"size", m.size},
            {"size_vram", m.size_vram},
            {"processor",
             m.size_reported ? core::provider::processor_label(m.size, m.size_vram) : "unknown"},
            {"context_length", m.context_length},
            {"expires_at", expiry == Expiry::Never ? json(nullptr) : time_json(m.expires_at)},
            {"expiry", m.expiry_reported ? names[static_cast<int>(expiry)] : "unknown"},
            {"expires_in_seconds", expires_in},
            {"details", details_json(m.details)},
            {"instance_id", m.instance_id.empty() ? json(nullptr) : json(m.instance_id)},
            {"size_reported", m.size_reported},
            {"expiry_reported", m.expiry_reported}};
}

std::string fixed(double v, int digits) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

} // namespace modelctl

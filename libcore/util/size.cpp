#include "util/size.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

namespace core::util {

std::optional<uint64_t> parse_size(std::string_view text) {
    std::string s;
    for (char c : text)
        if (c != ' ' && c != '\t')
            s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.'))
        ++i;
    if (i == 0 || s.find('.') != s.rfind('.'))
        return std::nullopt;
    double value = 0;
    try {
        value = std::stod(s.substr(0, i));
    } catch (...) {
        return std::nullopt;
    }
    std::string unit = s.substr(i);
    if (!unit.empty() && unit != "b" && unit.back() == 'b')
        unit.pop_back(); // "gb" -> "g", "gib" -> "gi"
    double mult = 0;
    if (unit.empty() || unit == "b")
        mult = 1;
    else if (unit == "k")
        mult = 1e3;
    else if (unit == "m")
        mult = 1e6;
    else if (unit == "g")
        mult = 1e9;
    else if (unit == "t")
        mult = 1e12;
    else if (unit == "ki")
        mult = 1024.0;
    else if (unit == "mi")
        mult = 1024.0 * 1024;
    else if (unit == "gi")
        mult = 1024.0 * 1024 * 1024;
    else if (unit == "ti")
        mult = 1024.0 * 1024 * 1024 * 1024;
    else
        return std::nullopt;
    double bytes = std::round(value * mult);
    if (bytes >= 1.8e19)
        return std::nullopt;
    return static_cast<uint64_t>(bytes);
}

std::string format_size(uint64_t b) {
    struct Unit {
        double size;
        const char* name;
    };
    static constexpr Unit units[] = {{1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "KB"}};
    char buf[32];
    for (const auto& u : units) {
        if (static_cast<double>(b) >= u.size) {
            double v = static_cast<double>(b) / u.size;
            if (v >= 10 || v == std::trunc(v))
                std::snprintf(buf, sizeof buf, "%d %s", static_cast<int>(v), u.name);
            else
                std::snprintf(buf, sizeof buf, "%.1f %s", v, u.name);
            return buf;
        }
    }
    return std::to_string(b) + " B";
}

} // namespace core::util

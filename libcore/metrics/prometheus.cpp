#include "metrics/prometheus.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace core::metrics {

namespace {

bool valid_name(const std::string& name, bool colons) {
    if (name.empty())
        return false;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colons && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

std::string escape_help(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

} // namespace

std::string format_value(double v) {
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    char buf[32];
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", v);
        return buf;
    }
    // The shortest form that reads back as the same double, as Go's
    // strconv.FormatFloat(v, 'g', -1, 64) writes it.
    for (int digits = 1; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (std::strtod(buf, nullptr) == v)
            break;
    }
    return buf;
}

std::string escape_label_value(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void Exposition::family(const std::string& name, const std::string& type, const std::string& help) {
    if (!valid_name(name, true))
        throw std::invalid_argument("invalid metric name '" + name + "'");
    if (type != "gauge" && type != "counter" && type != "histogram")
        throw std::invalid_argument("unsupported metric type '" + type + "'");
    for (size_t i = 0; i < families_.size(); ++i)
        if (families_[i].name == name) {
            if (families_[i].type != type)
                throw std::invalid_argument("metric '" + name + "' given two types");
            current_ = i;
            return;
        }
    families_.push_back({name, type, help, {}});
    current_ = families_.size() - 1;
}

void Exposition::sample(const Labels& labels, double value, const std::string& suffix) {
    if (families_.empty())
        throw std::logic_error("a sample needs a family first");
    auto& f = families_[current_];
    if ((f.type == "histogram") != (suffix == "_bucket" || suffix == "_sum" || suffix == "_count"))
        throw std::invalid_argument("sample suffix '" + suffix + "' for a " + f.type);
    std::string line = f.name + suffix;
    if (!labels.empty()) {
        line += '{';
        for (size_t i = 0; i < labels.size(); ++i) {
            const auto& [k, v] = labels[i];
            if (!valid_name(k, false) || k.rfind("__", 0) == 0)
                throw std::invalid_argument("invalid label name '" + k + "'");
            line += (i ? "," : "") + k + "=\"" + escape_label_value(v) + "\"";
        }
        line += '}';
    }
    line += ' ' + format_value(value);
    for (const auto& s : f.samples)
        if (s.compare(0, s.rfind(' '), line, 0, line.rfind(' ')) == 0)
            throw std::invalid_argument("duplicate series " + line.substr(0, line.rfind(' ')));
    f.samples.push_back(std::move(line));
}

std::string Exposition::text() const {
    std::string out;
    for (const auto& f : families_) {
        if (f.samples.empty())
            continue;
        out += "# HELP " + f.name + ' ' + escape_help(f.help) + '\n';
        out += "# TYPE " + f.name + ' ' + f.type + '\n';
        for (const auto& s : f.samples)
            out += s + '\n';
    }
    return out;
}

} // namespace core::metrics

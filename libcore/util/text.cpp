#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace core::util {

namespace {

void escape(std::string& out, const char* format, unsigned value) {
    char buf[8];
    std::snprintf(buf, sizeof buf, format, value);
    out += buf;
}

} // namespace

std::string printable(std::string_view s, bool keep_newlines) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            if (keep_newlines && (c == '\n' || c == '\t'))
                out += static_cast<char>(c);
            else
                escape(out, "\\x%02x", c);
        } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
            escape(out, "\\u%04x", static_cast<unsigned char>(s[++i]));
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string shorten(std::string_view s, size_t max) {
    if (s.size() <= max)
        return std::string(s);
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80)
        --cut; // not inside a UTF-8 sequence
    return std::string(s.substr(0, cut)) + "... (" + std::to_string(s.size() - cut) +
           " more bytes)";
}

std::string PrintableStream::feed(std::string_view piece) {
    std::string text = std::move(held_);
    held_.clear();
    text.append(piece);
    if (!text.empty() && static_cast<unsigned char>(text.back()) == 0xc2) {
        held_ = "\xc2";
        text.pop_back();
    }
    return printable(text, true);
}

std::string PrintableStream::finish() {
    std::string rest = std::move(held_);
    held_.clear();
    return printable(rest, true);
}

std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

namespace {

// Optimal string alignment distance.
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

} // namespace

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
    if (word.size() > 64)
        return "";
    size_t limit = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
    std::string best;
    size_t best_d = limit + 1;
    for (const auto& c : candidates) {
        size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

JsonErrorAt json_error_at(std::string_view text, size_t at) {
    JsonErrorAt out;
    size_t end = std::min(at == 0 ? 0 : at - 1, text.size());
    for (size_t i = 0; i < end; ++i) {
        if (text[i] == '\n') {
            ++out.line;
            out.column = 1;
        } else {
            ++out.column;
        }
    }
    size_t before = end;
    while (before > 0 && std::isspace(static_cast<unsigned char>(text[before - 1])))
        --before;
    out.trailing_comma = before > 0 && text[before - 1] == ',' && end < text.size() &&
                         (text[end] == '}' || text[end] == ']');
    return out;
}

} // namespace core::util

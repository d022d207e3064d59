#pragma once
// Text from a server or a file on its way to a terminal: control characters
// are never printed raw (an ESC[2J in a model name would clear the screen,
// an OSC sequence retitle the window).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace core::util {

// `s` with every C0 control (but \n and \t when keep_newlines), DEL and C1
// control (U+0080..U+009F, as UTF-8) written as a visible escape: "\x1b",
// "\u009b". Other bytes, UTF-8 or not, are kept as they are.
std::string printable(std::string_view s, bool keep_newlines = false);

// `s` without the spaces and tabs around it.
std::string_view trim_blanks(std::string_view s);

// `s` cut to at most max bytes (at a UTF-8 boundary), with "..." and how much
// was left out when it was cut.
std::string shorten(std::string_view s, size_t max);

// printable() for a stream of pieces (a model's answer): a C1 control split
// between two pieces is still caught. Keeps \n and \t.
class PrintableStream {
public:
    std::string feed(std::string_view piece);
    std::string finish(); // what was held back at the end

private:
    std::string held_; // a trailing 0xC2 that may start a C1 control
};

// The candidate nearest `word` by edit distance (insertions, deletions,
// substitutions, and swaps of two neighbours, each 1), when it is near
// enough to be a slip: at most 1 for words of up to 4 letters, else 2 (3
// past 8). "" when none is. Ties go to the earlier candidate.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

// Where a JSON parser stopped in `text`: the line and column of byte `at`
// (1-based, as nlohmann's parse_error::byte counts), and whether the last
// thing before it is a comma closing nothing (JSON's usual slip).
struct JsonErrorAt {
    size_t line = 1;
    size_t column = 1;
    bool trailing_comma = false;
};
JsonErrorAt json_error_at(std::string_view text, size_t at);

} // namespace core::util

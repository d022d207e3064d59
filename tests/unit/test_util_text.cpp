#include "util/text.hpp"

#include <doctest/doctest.h>

using namespace core::util;

TEST_CASE("printable escapes C0, DEL and C1 controls, and keeps the rest") {
    CHECK(printable("llama\x1b[2J") == "llama\\x1b[2J");
    CHECK(printable("\x1b]0;pwned\x07") == "\\x1b]0;pwned\\x07");
    CHECK(printable("a\tb\nc\x7f") == "a\\x09b\\x0ac\\x7f");
    CHECK(printable("a\tb\nc\r", true) == "a\tb\nc\\x0d");
    CHECK(printable("csi \xc2\x9b"
                    "2J") == "csi \\u009b2J"); // U+009B, the 8-bit CSI
    CHECK(printable("caf\xc3\xa9 \xe2\x9c\x93") == "caf\xc3\xa9 \xe2\x9c\x93"); // UTF-8 kept
    CHECK(printable("\xff") == "\xff"); // not a control: kept
}

TEST_CASE("shorten cuts at a UTF-8 boundary and says how much it left out") {
    CHECK(shorten("short", 10) == "short");
    CHECK(shorten("abcdefghij", 4) == "abcd... (6 more bytes)");
    CHECK(shorten("ab\xc3\xa9", 3) == "ab... (2 more bytes)");
}

TEST_CASE("a printable stream catches a C1 control split between pieces") {
    PrintableStream s;
    std::string out = s.feed("x\xc2");
    out += s.feed("\x9b"
                  "2J\n");
    out += s.finish();
    CHECK(out == "x\\u009b2J\n");
    PrintableStream t;
    out = t.feed("caf\xc2");
    out += t.finish();
    CHECK(out == "caf\xc2");
}

TEST_CASE("closest: a slip of the keyboard finds its word, a different word none") {
    using core::util::closest;
    std::vector<std::string> commands = {"status", "load", "unload", "gc", "pin", "unpin", "stats"};
    CHECK(closest("stauts", commands) == "status"); // two letters swapped
    CHECK(closest("stast", commands) == "stats");
    CHECK(closest("statsu", commands) == "status"); // as near as stats: the earlier wins
    CHECK(closest("lod", commands) == "load");
    CHECK(closest("unlaod", commands) == "unload");
    CHECK(closest("pni", commands) == "pin");
    CHECK(closest("frobnicate", commands).empty());
    CHECK(closest("xy", commands).empty()); // "gc" is two edits away: too far for two letters
    CHECK(closest("", commands).empty());
    CHECK(closest("--al", {"--all", "--json"}) == "--all");
}

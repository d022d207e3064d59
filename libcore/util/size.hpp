#pragma once
// Byte sizes as people write them and as Ollama prints them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core::util {

// Parses "24GB", "24 GB", "1.5G", "512MiB", "4096" (bytes). Decimal units (KB,
// MB, GB, TB, and K/M/G/T) are powers of 1000 as Ollama uses them; binary
// units (KiB, MiB, GiB, TiB) are powers of 1024. Case-insensitive. Returns
// nullopt for negative, malformed or overflowing input.
std::optional<uint64_t> parse_size(std::string_view text);

// Ollama's format.HumanBytes: decimal units, "4.7 GB", "13 GB", "512 MB",
// "900 B"; one decimal below 10 unless the value is whole.
std::string format_size(uint64_t bytes);

} // namespace core::util

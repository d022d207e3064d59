#pragma once
// Reading files that someone else may have put there: only ENOENT means
// "absent"; anything else (EACCES, EIO, a FIFO or device in its place, a file
// larger than the caller will hold) is an error naming the file, never
// mistaken for an empty one.

#include "error.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace core::util {

// Opens `path` for reading: -1 when it does not exist (ENOENT, or ENOTDIR on
// the way). Throws Error{kind} when it cannot be read, or is not a regular
// file (opened without blocking, so a FIFO never hangs). `size` is its size.
int open_regular(const std::filesystem::path& path, ErrorKind kind, uint64_t& size);

// The whole file, or nullopt when it does not exist. Throws Error{kind} as
// open_regular() does, and when it holds more than `max_bytes`.
std::optional<std::string> read_file(const std::filesystem::path& path, uint64_t max_bytes,
                                     ErrorKind kind);

// "permission denied" and the like, for an errno.
std::string errno_text(int err);

} // namespace core::util

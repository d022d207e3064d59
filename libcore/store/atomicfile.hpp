#pragma once
// Replacing a file so that readers see either the old or the new content,
// never a mix, and the new content survives a crash once this returns:
// write a temporary file beside it, fsync it, rename it over the target,
// fsync the directory. The caller must hold a lock so that two writers never
// share the temporary file.

#include <filesystem>
#include <string_view>

namespace core::store {

void write_atomically(const std::filesystem::path& path, std::string_view content);

// Appends records (whole lines) to a log file (created 0600) and fsyncs
// them. A file whose last line was cut short gets a newline first; a failed
// write is truncated away, so the file is as it was or holds every record.
void append_durably(const std::filesystem::path& path, std::string_view content);

// Renames `from` over `to` and fsyncs the directory, so that the rename
// survives a crash (log rotation).
void rename_durably(const std::filesystem::path& from, const std::filesystem::path& to);

} // namespace core::store

#pragma once
// `modelctl record --batch`: one JSON line a use, as scripts and apps write
// them. Outside input: every field is checked (store::invalid_use bounds).

#include "store/store.hpp"
#include "util/timestamp.hpp"

#include <string>
#include <string_view>

namespace core::registry {

// The task names `record` takes, or "" (none); throws Error{Usage} for any
// other.
std::string check_task(const std::string& task);

// One line {"model": ..., "latency_ms": ..., ["tokens", "tokens_out",
// "tokens_in", "ttft_ms", "eval_ms", "failed", "task", "at"]} as a use at
// `now` (unless "at" says when). Throws Error{Usage} naming `where` (file:line)
// and what is wrong: not an object, an unknown or mistyped field, no model or
// latency, a number out of bounds.
store::Event parse_use_line(std::string_view line, const std::string& where, util::Timestamp now);

} // namespace core::registry

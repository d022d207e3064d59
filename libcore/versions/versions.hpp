#pragma once
// Model versions on Ollama, as data: the name that keeps a version
// installed, a model's version history as the store and the server know it,
// retention and the choice of a rollback target. Pure functions.
//
// Ollama keeps one version per name: a pull that brings new weights points
// the name at a new manifest and prunes the layers no manifest names any
// more (server/images.go). A version stays installed while another name
// points at it, so modelctl copies the current version to a version tag
// before pulling: NAME:TAG-v<first 12 hex of its digest>. Ollama's names
// (types/model/name.go) allow letters, digits, '_', '-' and '.' in a tag of
// 1 to 80 bytes; '@' would introduce a digest, so the version goes into the tag.

#include "bench/bench.hpp"
#include "provider/provider.hpp"
#include "store/store.hpp"
#include "util/timestamp.hpp"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace core::versions {

inline constexpr size_t kShortDigest = 12;
inline constexpr size_t kMaxTag = 80;

// "llama3.2:latest" and digest "a80c4f17acd5..." -> "llama3.2:latest-va80c4f17acd5".
// A tag too long to take the suffix is cut to make room. `name` must carry
// its tag (canonical).
std::string version_tag(std::string_view name, std::string_view digest);

// Whether `candidate` is a version tag of `name`: version_tag(name, d) for
// the 12 hex digits d it ends with.
bool is_version_tag_of(std::string_view candidate, std::string_view name);

// The first 12 hex digits of a digest ("sha256:" left out), as Ollama shows it.
std::string short_digest(std::string_view digest);

// Whether `name`'s tag ends as a version tag's does ("-v" and 12 hex digits).
bool looks_like_version_tag(std::string_view name);

// Whether `digest` starts with `prefix` (case-insensitive hex), and the
// prefix is not empty.
bool digest_matches(std::string_view digest, std::string_view prefix);

// One version of a model as `modelctl versions` shows it.
struct Version {
    std::string digest;
    uint64_t size = 0;
    std::optional<util::Timestamp> pulled_at; // unknown for a version tag the store never saw
    std::string kept_by;    // the installed version tag holding it; "" when not kept by one
    bool current = false;   // the name points at it now
    bool installed = false; // current, or kept by a version tag
    bool pinned = false;    // its version tag is pinned
    std::optional<bench::Result> bench; // the newest bench result of this digest
};

// The versions of `name` (canonical), newest first: the store's history
// (`record`, may be null) merged by digest with what the server has
// installed now, the name itself and its version tags. `pinned` holds the
// pinned names (version tags among them). Newest: by pulled_at; the current
// version first among equals; versions of unknown age last.
std::vector<Version> history(std::string_view name, const store::ModelRecord* record,
                             const std::vector<provider::InstalledModel>& installed,
                             const std::set<std::string>& pinned);

// The versions whose tags retention deletes: keep `keep` installed versions
// (at least 1), the current one and the newest others; a pinned version is
// never deleted, and counts as kept.
std::vector<Version> beyond_retention(const std::vector<Version>& versions, int keep);

// The version a rollback makes current: the one whose digest starts with
// `to`, else (to empty) the newest installed version that is not current.
// Throws Error{Usage} for a prefix matching several versions, and
// Error{NotFound} when there is none, or it is no longer installed.
const Version& rollback_target(const std::vector<Version>& versions, std::string_view to,
                               std::string_view name);

// Records in `r` that its name points at `digest` since `at` (a pull, an
// observation): a new version is appended (the oldest dropped past
// store::kVersionsKeep). Sets r.digest and r.size. Returns whether the record changed.
bool note_current(store::ModelRecord& r, std::string_view digest, uint64_t size,
                  util::Timestamp at);
// Records that `tag` keeps `digest` installed ("" : no tag keeps it any more).
void note_kept(store::ModelRecord& r, std::string_view digest, uint64_t size, util::Timestamp at,
               std::string_view tag);

} // namespace core::versions

#include "versions/versions.hpp"

#include "error.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace core::versions {

namespace {

// Oldest first, the oldest dropped past kVersionsKeep.
void insert_version(store::ModelRecord& r, store::VersionRecord v) {
    r.versions.push_back(std::move(v));
    std::stable_sort(r.versions.begin(), r.versions.end(),
                     [](const store::VersionRecord& a, const store::VersionRecord& b) {
                         return a.pulled_at < b.pulled_at;
                     });
    if (r.versions.size() > store::kVersionsKeep)
        r.versions.erase(r.versions.begin());
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view without_algorithm(std::string_view digest) {
    if (digest.substr(0, 7) == "sha256:" || digest.substr(0, 7) == "sha256-")
        digest.remove_prefix(7);
    return digest;
}

} // namespace

std::string short_digest(std::string_view digest) {
    return std::string(without_algorithm(digest).substr(0, kShortDigest));
}

std::string version_tag(std::string_view name, std::string_view digest) {
    std::string suffix = "-v" + lower(short_digest(digest));
    auto colon = name.rfind(':');
    auto slash = name.rfind('/');
    std::string base(name);
    if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash))
        base += ":latest";
    colon = base.rfind(':');
    size_t room = kMaxTag - suffix.size();
    if (base.size() - colon - 1 > room)
        base.resize(colon + 1 + room);
    return base + suffix;
}

bool looks_like_version_tag(std::string_view name) {
    size_t n = 2 + kShortDigest;
    auto colon = name.rfind(':');
    if (colon == std::string_view::npos || name.size() - colon - 1 <= n)
        return false;
    std::string_view tail = name.substr(name.size() - n);
    return tail.substr(0, 2) == "-v" && is_hex(tail.substr(2));
}

bool is_version_tag_of(std::string_view candidate, std::string_view name) {
    size_t n = 2 + kShortDigest;
    if (candidate.size() <= n)
        return false;
    std::string_view tail = candidate.substr(candidate.size() - n);
    if (tail.substr(0, 2) != "-v" || !is_hex(tail.substr(2)))
        return false;
    return candidate == version_tag(name, tail.substr(2));
}

bool digest_matches(std::string_view digest, std::string_view prefix) {
    prefix = without_algorithm(prefix);
    digest = without_algorithm(digest);
    return !prefix.empty() && prefix.size() <= digest.size() &&
           lower(digest.substr(0, prefix.size())) == lower(prefix);
}

std::vector<Version> history(std::string_view name, const store::ModelRecord* record,
                             const std::vector<provider::InstalledModel>& installed,
                             const std::set<std::string>& pinned) {
    std::map<std::string, Version> by_digest;
    std::vector<std::string> order; // first seen first, for stable output
    auto at = [&](const std::string& digest) -> Version& {
        auto [it, added] = by_digest.try_emplace(digest);
        if (added) {
            it->second.digest = digest;
            order.push_back(digest);
        }
        return it->second;
    };
    if (record)
        for (const auto& v : record->versions) {
            Version& x = at(v.digest);
            x.size = v.size;
            x.pulled_at = v.pulled_at;
        }
    for (const auto& m : installed) {
        if (m.digest.empty())
            continue;
        if (m.name == name) {
            Version& x = at(m.digest);
            x.current = true;
            x.installed = true;
            x.size = m.size;
            if (!x.pulled_at)
                x.pulled_at = m.modified_at; // when the server wrote it
        } else if (is_version_tag_of(m.name, name)) {
            Version& x = at(m.digest);
            x.installed = true;
            if (!x.size)
                x.size = m.size;
            // Several tags may hold one digest: prefer the one named after it.
            bool named_after =
                digest_matches(m.digest, m.name.substr(m.name.size() - kShortDigest));
            if (x.kept_by.empty() || named_after)
                x.kept_by = m.name;
        }
    }
    std::vector<Version> out;
    for (const auto& d : order) {
        Version v = by_digest[d];
        v.pinned = !v.kept_by.empty() && pinned.count(v.kept_by) > 0;
        if (record)
            for (auto it = record->bench.rbegin(); it != record->bench.rend(); ++it)
                if (!it->digest.empty() && it->digest == v.digest) {
                    v.bench = *it;
                    break;
                }
        out.push_back(std::move(v));
    }
    std::stable_sort(out.begin(), out.end(), [](const Version& a, const Version& b) {
        if (a.pulled_at.has_value() != b.pulled_at.has_value())
            return a.pulled_at.has_value();
        if (a.pulled_at && *a.pulled_at != *b.pulled_at)
            return *a.pulled_at > *b.pulled_at;
        return a.current && !b.current;
    });
    return out;
}

std::vector<Version> beyond_retention(const std::vector<Version>& versions, int keep) {
    int slots = std::max(keep, 1);
    for (const auto& v : versions)
        if (v.installed && (v.current || v.pinned))
            --slots;
    std::vector<Version> out;
    for (const auto& v : versions) {
        if (!v.installed || v.current || v.pinned || v.kept_by.empty())
            continue;
        if (slots > 0)
            --slots;
        else
            out.push_back(v);
    }
    return out;
}

const Version& rollback_target(const std::vector<Version>& versions, std::string_view to,
                               std::string_view name) {
    std::string n(name);
    std::string hint = "modelctl versions " + n + " lists them";
    if (to.empty()) {
        for (const auto& v : versions)
            if (!v.current && v.installed && !v.kept_by.empty())
                return v;
        throw Error(ErrorKind::NotFound, "no earlier version of " + n + " is kept",
                    "modelctl pull keeps the current version before it pulls a new one; " + hint);
    }
    if (!is_hex(without_algorithm(to)))
        throw Error(ErrorKind::Usage, "'" + std::string(to) + "' is not a digest (hex digits)",
                    hint);
    const Version* found = nullptr;
    for (const auto& v : versions)
        if (digest_matches(v.digest, to)) {
            if (found)
                throw Error(ErrorKind::Usage,
                            "'" + std::string(to) + "' matches more than one version of " + n,
                            "give more of the digest; " + hint);
            found = &v;
        }
    if (!found)
        throw Error(ErrorKind::NotFound,
                    "no version of " + n + " has a digest starting with '" + std::string(to) + "'",
                    hint);
    if (!found->installed)
        throw Error(ErrorKind::NotFound,
                    "version " + short_digest(found->digest) + " of " + n +
                        " is no longer installed (its version tag was deleted)",
                    "a registry serves only a tag's newest version; " + hint);
    return *found;
}

bool note_current(store::ModelRecord& r, std::string_view digest, uint64_t size,
                  util::Timestamp at) {
    bool changed = r.digest != digest || r.size != size;
    r.digest = std::string(digest);
    r.size = size;
    auto it = std::find_if(r.versions.begin(), r.versions.end(),
                           [&](const store::VersionRecord& v) { return v.digest == digest; });
    if (it != r.versions.end())
        return changed;
    insert_version(r, {std::string(digest), size, at, ""});
    return true;
}

void note_kept(store::ModelRecord& r, std::string_view digest, uint64_t size, util::Timestamp at,
               std::string_view tag) {
    auto it = std::find_if(r.versions.begin(), r.versions.end(),
                           [&](const store::VersionRecord& v) { return v.digest == digest; });
    if (it == r.versions.end()) {
        insert_version(r, {std::string(digest), size, at, std::string(tag)});
        return;
    }
    it->tag = std::string(tag);
}

} // namespace core::versions

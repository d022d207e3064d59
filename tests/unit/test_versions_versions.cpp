#include "error.hpp"
#include "scratch.hpp"
#include "store/store.hpp"
#include "versions/versions.hpp"

#include <doctest/doctest.h>

using namespace core;
using namespace core::versions;
using namespace std::chrono_literals;

namespace {

const std::string kOld = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72";
const std::string kMid = "1181647e9ace0c0a1e1c2b2bd4d2a2b2e9d6b8e43e35db6fc1c2f80b06a4b1c0";
const std::string kNew = "5fe2d3b1c9e7a0f4b8c6d2e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1";

provider::InstalledModel installed(std::string name, std::string digest, uint64_t size = 2000) {
    provider::InstalledModel m;
    m.name = std::move(name);
    m.digest = std::move(digest);
    m.size = size;
    m.modified_at = util::Timestamp{} + 1000s;
    return m;
}

util::Timestamp at(int seconds) {
    return util::Timestamp{} + std::chrono::seconds(seconds);
}

store::ModelRecord record_of(std::vector<std::pair<std::string, int>> versions) {
    store::ModelRecord r;
    for (const auto& [digest, t] : versions)
        note_current(r, digest, 2000, at(t));
    return r;
}

} // namespace

TEST_CASE("version tags follow Ollama's name rules") {
    CHECK(version_tag("llama3.2:latest", kOld) == "llama3.2:latest-va80c4f17acd5");
    CHECK(version_tag("llama3.2", kOld) == "llama3.2:latest-va80c4f17acd5"); // the tag it has
    CHECK(version_tag("library/qwen2.5-coder:7b", "sha256:" + kMid) ==
          "library/qwen2.5-coder:7b-v1181647e9ace");
    CHECK(version_tag("m:x", "A80C4F17ACD5FF") == "m:x-va80c4f17acd5"); // lowercase hex
    // A tag is at most 80 bytes (types/model/name.go): a long one is cut to make room.
    std::string long_tag(79, 't');
    auto v = version_tag("m:" + long_tag, kOld);
    CHECK(v.size() - 2 == kMaxTag);
    CHECK(v.substr(v.size() - 14) == "-va80c4f17acd5");

    CHECK(is_version_tag_of("llama3.2:latest-va80c4f17acd5", "llama3.2:latest"));
    CHECK(is_version_tag_of(v, "m:" + long_tag));
    CHECK_FALSE(is_version_tag_of("llama3.2:latest-va80c4f17acd5", "llama3.2:3b"));
    CHECK_FALSE(is_version_tag_of("llama3.2:latest-vzz0c4f17acd5", "llama3.2:latest"));
    CHECK_FALSE(is_version_tag_of("llama3.2:latest", "llama3.2:latest"));
    CHECK(looks_like_version_tag("llama3.2:latest-va80c4f17acd5"));
    CHECK_FALSE(looks_like_version_tag("llama3.2:latest"));
    CHECK_FALSE(looks_like_version_tag("x-va80c4f17acd5")); // no tag: a model name
}

TEST_CASE("digest prefixes match case-insensitively, with or without sha256:") {
    CHECK(digest_matches(kOld, "a80c"));
    CHECK(digest_matches(kOld, "A80C4F"));
    CHECK(digest_matches("sha256:" + kOld, "sha256:a80c"));
    CHECK(digest_matches(kOld, kOld));
    CHECK_FALSE(digest_matches(kOld, ""));
    CHECK_FALSE(digest_matches(kOld, "a80d"));
    CHECK_FALSE(digest_matches("a80c", "a80c4"));
}

TEST_CASE("history merges the store's versions with what the server has") {
    auto r = record_of({{kOld, 100}, {kMid, 200}});
    bench::Result b;
    b.digest = kOld;
    b.tokens_per_second = {600, 612, 620};
    r.bench.push_back(b);
    std::vector<provider::InstalledModel> server = {
        installed("llama3.2:latest", kNew), installed("llama3.2:latest-va80c4f17acd5", kOld),
        installed("llama3.2:3b", kMid), // another model with the same digest: not a version tag
    };
    auto h = history("llama3.2:latest", &r, server, {"llama3.2:latest-va80c4f17acd5"});
    REQUIRE(h.size() == 3);
    // The current version came from the server: pulled when it wrote it
    // (modified_at), which is newer than the store's two.
    CHECK(h[0].digest == kNew);
    CHECK(h[0].current);
    REQUIRE(h[0].pulled_at);
    CHECK(*h[0].pulled_at == at(1000));
    CHECK(h[1].digest == kMid);
    CHECK_FALSE(h[1].installed); // no version tag holds it any more
    CHECK(h[1].kept_by.empty());
    CHECK(h[2].digest == kOld);
    CHECK(h[2].installed);
    CHECK(h[2].pinned);
    CHECK(h[2].kept_by == "llama3.2:latest-va80c4f17acd5");
    REQUIRE(h[2].bench);
    CHECK(h[2].bench->tokens_per_second.median == 612);
    CHECK(history("nothing:latest", nullptr, server, {}).empty());
}

TEST_CASE("retention keeps the current version and the newest others, never a pinned one") {
    auto r = record_of({{kOld, 100}, {kMid, 200}, {kNew, 300}});
    std::vector<provider::InstalledModel> server = {
        installed("m:latest", kNew),
        installed("m:latest-v1181647e9ace", kMid),
        installed("m:latest-va80c4f17acd5", kOld),
    };
    auto h = history("m:latest", &r, server, {});
    auto gone = beyond_retention(h, 2);
    REQUIRE(gone.size() == 1);
    CHECK(gone[0].kept_by == "m:latest-va80c4f17acd5");
    CHECK(beyond_retention(h, 3).empty());
    CHECK(beyond_retention(h, 1).size() == 2);
    CHECK(beyond_retention(h, 0).size() == 2); // the current version stays whatever keep says
    // A pinned version counts as kept and is never deleted: the slot it takes is the other's.
    auto pinned = history("m:latest", &r, server, {"m:latest-va80c4f17acd5"});
    gone = beyond_retention(pinned, 2);
    REQUIRE(gone.size() == 1);
    CHECK(gone[0].kept_by == "m:latest-v1181647e9ace");
    CHECK(beyond_retention(pinned, 1).size() == 1);
}

TEST_CASE("rollback picks the newest kept earlier version, or the one named") {
    auto r = record_of({{kOld, 100}, {kMid, 200}, {kNew, 300}});
    std::vector<provider::InstalledModel> server = {
        installed("m:latest", kNew),
        installed("m:latest-va80c4f17acd5", kOld),
    };
    auto h = history("m:latest", &r, server, {});
    CHECK(rollback_target(h, "", "m:latest").digest == kOld); // kMid is not kept
    CHECK(rollback_target(h, "a80c", "m:latest").digest == kOld);
    CHECK(rollback_target(h, "5fe2", "m:latest").current); // the caller sees it is current

    auto kind = [&](std::string_view to) {
        try {
            rollback_target(h, to, "m:latest");
        } catch (const Error& e) {
            return e.kind();
        }
        return ErrorKind::Failed;
    };
    CHECK(kind("1181") == ErrorKind::NotFound); // in the history, but deleted
    CHECK(kind("ffff") == ErrorKind::NotFound);
    CHECK(kind("xyz") == ErrorKind::Usage);
    auto twins = h;
    twins.push_back(twins[1]);
    twins.back().digest = kOld.substr(0, 4) + "ffff";
    CHECK_THROWS_AS(rollback_target(twins, "a80c", "m:latest"), Error); // ambiguous
    std::vector<provider::InstalledModel> alone = {installed("m:latest", kNew)};
    CHECK_THROWS_AS(rollback_target(history("m:latest", &r, alone, {}), "", "m:latest"), Error);
}

TEST_CASE("the record's versions: appended once, oldest first, bounded") {
    store::ModelRecord r;
    CHECK(note_current(r, kOld, 10, at(100)));
    CHECK_FALSE(note_current(r, kOld, 10, at(500))); // the same version: nothing new
    CHECK(note_current(r, kNew, 20, at(300)));
    CHECK(r.digest == kNew);
    CHECK(r.size == 20);
    note_kept(r, kOld, 10, at(100), "m:latest-va80c4f17acd5");
    note_kept(r, kMid, 15, at(200), "m:latest-v1181647e9ace"); // unknown until now: inserted
    REQUIRE(r.versions.size() == 3);
    CHECK(r.versions[0].tag == "m:latest-va80c4f17acd5");
    CHECK(r.versions[1].digest == kMid);
    CHECK(r.versions[2].digest == kNew);
    note_kept(r, kOld, 10, at(100), "");
    CHECK(r.versions[0].tag.empty());
    for (int i = 0; i < 60; ++i)
        note_current(r, std::to_string(1000 + i), 1, at(1000 + i));
    CHECK(r.versions.size() == store::kVersionsKeep);
    CHECK(r.versions.back().digest == "1059");
}

TEST_CASE("versions survive the store's round trip") {
    Scratch s;
    store::Store st(s.path);
    st.update([](store::State& state) {
        auto& r = store::touch(state, "m:latest", at(1));
        note_current(r, kOld, 10, at(100));
        note_current(r, kNew, 20, at(300));
        note_kept(r, kOld, 10, at(100), "m:latest-va80c4f17acd5");
    });
    auto back = st.read().models.at("m:latest");
    REQUIRE(back.versions.size() == 2);
    CHECK(back.versions[0].digest == kOld);
    CHECK(back.versions[0].tag == "m:latest-va80c4f17acd5");
    CHECK(back.versions[0].pulled_at == at(100));
    CHECK(back.versions[1].size == 20);
    CHECK(back.digest == kNew);
}

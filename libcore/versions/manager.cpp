#include "versions/manager.hpp"

#include "error.hpp"
#include "util/interrupt.hpp"

#include <algorithm>
#include <chrono>
#include <exception>

namespace core::versions {

namespace {

const provider::InstalledModel* find(const std::vector<provider::InstalledModel>& installed,
                                     const std::string& name) {
    auto it = std::find_if(installed.begin(), installed.end(),
                           [&](const provider::InstalledModel& m) { return m.name == name; });
    return it == installed.end() ? nullptr : &*it;
}

// Copies `name` to its version tag unless that tag already holds its
// digest; returns the tag, and in `made` whether this call wrote it.
std::string keep(provider::Provider& server, const std::vector<provider::InstalledModel>& installed,
                 const provider::InstalledModel& current, bool& made) {
    std::string tag = version_tag(current.name, current.digest);
    const auto* existing = find(installed, tag);
    made = !existing || existing->digest != current.digest;
    if (made)
        server.copy(current.name, tag);
    return tag;
}

} // namespace

PullOutcome Manager::pull(const std::string& model,
                          const std::function<bool(const provider::PullProgress&)>& on_progress) {
    store_.check_writable(); // refuse before the server is touched
    auto started = std::chrono::steady_clock::now();
    PullOutcome out;
    out.model = provider_.canonical(model);
    auto before_list = provider_.installed();
    std::optional<provider::InstalledModel> before;
    if (const auto* b = find(before_list, out.model))
        before = *b;
    bool made = false;
    if (before && !before->digest.empty()) { // LM Studio names no digests: nothing to keep
        out.before = before->digest;
        out.kept_by = keep(provider_, before_list, *before, made);
    }
    std::exception_ptr failure;
    try {
        provider_.pull(out.model, on_progress);
    } catch (const Error&) {
        failure = std::current_exception();
    }
    // After a failure (Ctrl-C included), what follows puts things back as
    // they were: it must run even though the user asked to stop.
    std::optional<util::CleanupScope> cleanup;
    if (failure)
        cleanup.emplace();
    std::vector<provider::InstalledModel> after_list;
    try {
        after_list = provider_.installed();
    } catch (const Error&) {
        if (failure)
            std::rethrow_exception(failure); // the server is gone: the pull's error says more
        throw;
    }
    const auto* after = find(after_list, out.model);
    if (failure && (!after || (before && after->digest == out.before))) {
        // The server writes the new version last: it did not get that far,
        // so the name is as it was, and the tag made for it goes again.
        if (made) {
            try {
                provider_.remove(out.kept_by);
            } catch (const Error&) {
                // Left behind, it only keeps a version: gc --versions deletes it.
            }
        }
        std::rethrow_exception(failure);
    }
    // (A failure that came after the server wrote the new version: it is pulled.)
    if (!after)
        throw Error(ErrorKind::Protocol, "the server at " + provider_.address() +
                                             " reported the pull of '" + out.model +
                                             "' done but does not list the model");
    out.after = after->digest;
    out.size = after->size;
    out.changed = !before || out.after != out.before;
    if (!out.changed) {
        if (made) // the name still holds this version: the tag adds nothing
            provider_.remove(out.kept_by);
        out.kept_by.clear();
    }
    auto now = util::now();
    store_.update([&](store::State& st) {
        auto& r = store::touch(st, out.model, now);
        if (out.changed && !out.before.empty())
            note_kept(r, before->digest, before->size, before->modified_at.value_or(now),
                      out.kept_by);
        // A new version was pulled now; one already there, when the server wrote it.
        if (!out.after.empty())
            note_current(r, after->digest, after->size,
                         out.changed ? now : after->modified_at.value_or(now));
        if (!after->details.family.empty())
            r.details = after->details;
    });
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return out;
}

RollbackOutcome Manager::rollback(const std::string& model, const std::string& to) {
    auto state = store_.check_writable();
    RollbackOutcome out;
    out.model = provider_.canonical(model);
    auto installed = provider_.installed();
    auto rec = state.models.find(out.model);
    auto versions =
        history(out.model, rec == state.models.end() ? nullptr : &rec->second, installed, {});
    const Version target = rollback_target(versions, to, out.model);
    out.to = target.digest;
    std::optional<provider::InstalledModel> current;
    if (const auto* c = find(installed, out.model)) {
        current = *c;
        out.from = c->digest;
    }
    if (current && current->digest == target.digest)
        return out;
    if (current) {
        bool made = false;
        out.kept_by = keep(provider_, installed, *current, made);
    }
    provider_.copy(target.kept_by, out.model);
    auto now_list = provider_.installed();
    const auto* now_model = find(now_list, out.model);
    if (!now_model || now_model->digest != target.digest)
        throw Error(ErrorKind::Protocol, "the server at " + provider_.address() + " copied " +
                                             target.kept_by + " to " + out.model +
                                             " but does not list it with that digest");
    auto now = util::now();
    store_.update([&](store::State& st) {
        auto& r = store::touch(st, out.model, now);
        if (current)
            note_kept(r, current->digest, current->size, current->modified_at.value_or(now),
                      out.kept_by);
        note_kept(r, target.digest, target.size, target.pulled_at.value_or(now), target.kept_by);
        note_current(r, target.digest, now_model->size, now);
    });
    out.changed = true;
    return out;
}

std::vector<Version> Manager::list(const std::string& model, const std::set<std::string>& pinned) {
    auto state = store_.read();
    std::string name = provider_.canonical(model);
    auto installed = provider_.installed();
    auto rec = state.models.find(name);
    return history(name, rec == state.models.end() ? nullptr : &rec->second, installed, pinned);
}

void Manager::drop(const std::string& model, const Version& v) {
    provider_.remove(v.kept_by);
    auto now = util::now();
    store_.update([&](store::State& st) {
        note_kept(store::touch(st, provider_.canonical(model), now), v.digest, v.size,
                  v.pulled_at.value_or(now), "");
        st.models.erase(v.kept_by); // what modelctl knew of the tag as a model of its own
    });
}

std::vector<std::string> Manager::remove(const std::string& model,
                                         const std::vector<Version>& versions) {
    std::vector<std::string> deleted;
    for (const auto& v : versions)
        if (!v.kept_by.empty()) {
            drop(model, v);
            deleted.push_back(v.kept_by);
        }
    std::string name = provider_.canonical(model);
    provider_.remove(name);
    deleted.push_back(name);
    return deleted;
}

} // namespace core::versions

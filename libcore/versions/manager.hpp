#pragma once
// Model versions on a server that manages model files (Ollama): pull with
// the current version kept, rollback, and deleting versions, each keeping
// the store's history in step with the server (see versions.hpp).
//
// Every operation either completes or leaves the server's names and the
// store as they were: a pull that fails or is interrupted deletes the
// version tag it made, and the store is written only once the server has
// done its part. (A pull whose stream ends after the server wrote the new
// version is a pull done.)
//
// pull works on LM Studio too, whose API downloads models but names no
// digests and cannot copy or delete: there a pull keeps nothing, reports
// no digests, and changes something only when the model was not installed.

#include "provider/provider.hpp"
#include "store/store.hpp"
#include "versions/versions.hpp"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace core::versions {

struct PullOutcome {
    std::string model;    // canonical
    std::string before;   // digest before the pull; "" when not installed (or LM Studio)
    std::string after;    // digest now; "" on LM Studio
    uint64_t size = 0;    // of the version now current
    std::string kept_by;  // the version tag keeping `before`; "" none
    bool changed = false; // a new version: not installed before, or after != before
    double seconds = 0;
};

struct RollbackOutcome {
    std::string model;
    std::string from;    // digest before; "" when the name was not installed
    std::string to;      // digest now
    std::string kept_by; // the version tag keeping `from`; "" none
    bool changed = false;
};

class Manager {
public:
    Manager(provider::Provider& provider, store::Store& store)
        : provider_(provider), store_(store) {}

    // Keeps the installed version under its version tag, pulls the model's
    // newest version and records it. When the server already had it, the tag
    // made for it is deleted again (the name keeps it). on_progress as
    // Provider::pull (false interrupts: Error{Interrupted}).
    PullOutcome pull(const std::string& model,
                     const std::function<bool(const provider::PullProgress&)>& on_progress);

    // Makes the version rollback_target() picks current: the current one is
    // kept under its version tag first, then the target's tag is copied to the
    // name. A target already current changes nothing.
    RollbackOutcome rollback(const std::string& model, const std::string& to);

    // The model's versions (history()) with the server's installed list now.
    std::vector<Version> list(const std::string& model, const std::set<std::string>& pinned);

    // Deletes the version tag keeping `v` and records it as no longer kept.
    void drop(const std::string& model, const Version& v);

    // Deletes the model from the server (its name), and the version tags
    // that keep earlier versions of it (`versions`, from list(): those with
    // a kept_by), so that its files go; the store keeps its history. Returns
    // the names deleted, the tags first. Throws as Provider::remove (an LM
    // Studio: Error{Failed}, it has no delete).
    std::vector<std::string> remove(const std::string& model, const std::vector<Version>& versions);

private:
    provider::Provider& provider_;
    store::Store& store_;
};

} // namespace core::versions

#pragma once
// The models a simulated Ollama has on disk, and the registry it pulls them
// from. Follows Ollama's docs/api.md (pull, copy, delete) and server/images.go:
//  - a model is a manifest naming layers: its weights, and small template,
//    license and params layers that models of a family share; the model's
//    digest is its manifest's;
//  - a pull fetches the registry's manifest, downloads the layers not on disk
//    and writes the manifest last, so a pull cut short (an error, the client
//    gone) leaves the name as it was;
//  - copy writes the source's manifest under another name; delete removes a
//    name, and a layer no manifest names any more leaves the disk;
//  - names follow types/model/name.go: [host/][namespace/]model[:tag].
// The registry publishes a new version of a model whenever one already
// installed at its newest version is pulled again (repull_new), so every
// re-pull brings a new digest; with repull_new false it never changes.

#include "catalog.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace modelsim {

// Thrown to make the HTTP layer answer with {"error": message}.
struct ApiError {
    int status;
    std::string message;
};

using ModelPtr = std::shared_ptr<const CatalogModel>;

struct Layer {
    std::string digest; // "sha256:<64 hex>", as pull progress names it
    uint64_t size = 0;
};

struct LibraryConfig {
    uint64_t disk = 0;      // bytes the model files may take; 0: no limit
    bool repull_new = true; // a re-pull of the newest version finds a newer one
    // LM Studio: a model's key is taken as it is ("x" is not "x:latest").
    bool keys_as_given = false;
};

class Library {
public:
    // `installed` are on disk at start; the registry offers those and `registry`.
    Library(const std::vector<CatalogModel>& installed, const std::vector<CatalogModel>& registry,
            LibraryConfig config);

    // An installed model (names normalized: "x" is "x:latest", unless
    // keys_as_given). Throws
    // ApiError 404. The model stays valid however the library changes.
    ModelPtr find(const std::string& name) const;
    std::vector<ModelPtr> installed() const;

    // Throw ApiError as Ollama's handlers answer: 400 for an invalid name,
    // 404 for a source or model not installed.
    void copy(const std::string& source, const std::string& destination);
    void remove(const std::string& name);

    // A pull under way: the version the registry offers and its layers.
    struct Pull {
        std::string name;
        CatalogModel model;
        std::vector<Layer> layers;
        std::vector<bool> on_disk; // per layer: already there, nothing to download
        uint64_t disk_free = UINT64_MAX;
    };
    // Fetches the manifest. Throws ApiError{404, "pull model manifest: file
    // does not exist"} for a name the registry does not have.
    Pull start_pull(const std::string& name);
    // Writes the manifest: the name is now the pulled version.
    void finish_pull(const Pull& pull, const std::string& modified_at);

    // Whether Ollama takes `name` as a model name (types/model/name.go).
    static bool valid_name(const std::string& name);
    static std::vector<Layer> layers(const CatalogModel& m);

private:
    std::string key(const std::string& name) const; // the name as the library keys it
    uint64_t disk_used() const;                     // layers named by installed manifests; mu_ held

    struct Published {
        CatalogModel model; // the first version
        int revision = 0;   // the newest version's number
    };
    LibraryConfig config_;
    mutable std::mutex mu_;
    std::vector<ModelPtr> installed_; // in the order listed
    std::map<std::string, Published> registry_;
};

} // namespace modelsim

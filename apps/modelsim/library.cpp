#include "library.hpp"

#include <algorithm>
#include <set>

namespace modelsim {

namespace {

bool alnum_or_underscore(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

enum class Part { Host, Namespace, Model, Tag };

// types/model/name.go isValidPart: a letter, digit or '_' first, then those
// and '-', '_', '.' (not in a namespace) and ':' (in a host only); 1 to 80
// bytes, a host up to 350.
bool valid_part(Part kind, const std::string& s) {
    size_t max = kind == Part::Host ? 350 : 80;
    if (s.empty() || s.size() > max || !alnum_or_underscore(s[0]))
        return false;
    for (char c : s.substr(1)) {
        if (alnum_or_underscore(c) || c == '-')
            continue;
        if (c == '.' && kind != Part::Namespace)
            continue;
        if (c == ':' && kind == Part::Host)
            continue;
        return false;
    }
    return true;
}

} // namespace

bool Library::valid_name(const std::string& name) {
    // ParseNameBare: the tag follows the last ':' after the last '/'; then
    // model, namespace and host, each before the one after it.
    std::string rest = name;
    auto colon = rest.rfind(':');
    auto slash = rest.rfind('/');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
        if (!valid_part(Part::Tag, rest.substr(colon + 1)))
            return false;
        rest.resize(colon);
    }
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        auto end = rest.find('/', start);
        parts.push_back(rest.substr(start, end - start));
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    if (parts.size() > 3)
        return false;
    static const Part kinds[3][3] = {
        {Part::Model}, {Part::Namespace, Part::Model}, {Part::Host, Part::Namespace, Part::Model}};
    for (size_t i = 0; i < parts.size(); ++i)
        if (!valid_part(kinds[parts.size() - 1][i], parts[i]))
            return false;
    return true;
}

std::vector<Layer> Library::layers(const CatalogModel& m) {
    // The weights are the model's own; template, license and params are the
    // family's (Ollama stores each distinct blob once, by digest).
    static const std::pair<const char*, uint64_t> small[] = {
        {"template", 1429}, {"license", 7711}, {"params", 96}};
    uint64_t rest = 0;
    for (const auto& [what, size] : small)
        rest += size;
    std::vector<Layer> out;
    out.push_back(
        {"sha256:" + sha256_hex("weights:" + m.digest), m.size > rest ? m.size - rest : m.size});
    if (m.size > rest)
        for (const auto& [what, size] : small)
            out.push_back({"sha256:" + sha256_hex(std::string(what) + ":" + m.family), size});
    return out;
}

Library::Library(const std::vector<CatalogModel>& installed,
                 const std::vector<CatalogModel>& registry, LibraryConfig config)
    : config_(config) {
    for (const auto& m : registry)
        registry_[m.name] = {m, 0};
    for (const auto& m : installed) {
        registry_[m.name] = {m, 0};
        installed_.push_back(std::make_shared<const CatalogModel>(m));
    }
}

std::string Library::key(const std::string& name) const {
    return config_.keys_as_given ? name : normalize(name);
}

ModelPtr Library::find(const std::string& name) const {
    std::string n = key(name);
    std::lock_guard lock(mu_);
    for (const auto& m : installed_)
        if (m->name == n)
            return m;
    throw ApiError{404, "model '" + name + "' not found"};
}

std::vector<ModelPtr> Library::installed() const {
    std::lock_guard lock(mu_);
    return installed_;
}

uint64_t Library::disk_used() const {
    std::set<std::string> seen;
    uint64_t used = 0;
    for (const auto& m : installed_)
        for (const auto& l : layers(*m))
            if (seen.insert(l.digest).second)
                used += l.size;
    return used;
}

void Library::copy(const std::string& source, const std::string& destination) {
    // server/routes.go CopyHandler.
    if (!valid_name(source))
        throw ApiError{400, "source \"" + source + "\" is invalid"};
    if (!valid_name(destination))
        throw ApiError{400, "destination \"" + destination + "\" is invalid"};
    auto src = find(source);
    auto copy = std::make_shared<CatalogModel>(*src);
    copy->name = key(destination);
    std::lock_guard lock(mu_);
    auto it = std::find_if(installed_.begin(), installed_.end(),
                           [&](const ModelPtr& m) { return m->name == copy->name; });
    if (it != installed_.end())
        *it = std::move(copy);
    else
        installed_.push_back(std::move(copy));
}

void Library::remove(const std::string& name) {
    // server/routes.go DeleteHandler: 404 "model '<name>' not found".
    std::string n = key(name);
    std::lock_guard lock(mu_);
    auto it = std::find_if(installed_.begin(), installed_.end(),
                           [&](const ModelPtr& m) { return m->name == n; });
    if (it == installed_.end())
        throw ApiError{404, "model '" + name + "' not found"};
    installed_.erase(it);
}

Library::Pull Library::start_pull(const std::string& name) {
    std::string n = key(name);
    std::lock_guard lock(mu_);
    auto pub = registry_.find(n);
    if (pub == registry_.end())
        // server/images.go PullModel: the registry answers 404 for the manifest.
        throw ApiError{404, "pull model manifest: file does not exist"};
    auto version = [&](int revision) {
        const std::string& first = pub->second.model.digest;
        return revision == 0 ? first : sha256_hex(first + "/r" + std::to_string(revision));
    };
    auto installed = std::find_if(installed_.begin(), installed_.end(),
                                  [&](const ModelPtr& m) { return m->name == n; });
    if (config_.repull_new && installed != installed_.end() &&
        (*installed)->digest == version(pub->second.revision))
        ++pub->second.revision; // the registry has published a newer version since
    Pull p;
    p.name = n;
    p.model = pub->second.model;
    p.model.digest = version(pub->second.revision);
    p.layers = layers(p.model);
    std::set<std::string> on_disk;
    for (const auto& m : installed_)
        for (const auto& l : layers(*m))
            on_disk.insert(l.digest);
    for (const auto& l : p.layers)
        p.on_disk.push_back(on_disk.count(l.digest) > 0);
    if (config_.disk > 0) {
        uint64_t used = disk_used();
        p.disk_free = config_.disk > used ? config_.disk - used : 0;
    }
    return p;
}

void Library::finish_pull(const Pull& pull, const std::string& modified_at) {
    auto m = std::make_shared<CatalogModel>(pull.model);
    m->name = pull.name;
    m->modified_at = modified_at;
    std::lock_guard lock(mu_);
    auto it = std::find_if(installed_.begin(), installed_.end(),
                           [&](const ModelPtr& x) { return x->name == pull.name; });
    if (it != installed_.end())
        *it = std::move(m);
    else
        installed_.push_back(std::move(m));
}

} // namespace modelsim

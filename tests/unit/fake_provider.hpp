#pragma once
// An in-memory model server for unit tests of the operations: installed
// models with sizes, a list of loaded ones, loads and unloads that change it.
// `sizes_reported` false behaves like LM Studio: loaded models show their
// file's size, flagged as not reported, and no expiry.

#include "config/config.hpp"
#include "error.hpp"
#include "provider/ollama_api.hpp"
#include "provider/provider.hpp"
#include "registry/registry.hpp"
#include "scratch.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

class FakeProvider : public core::provider::Provider {
public:
    std::string kind_ = "ollama";
    bool sizes_reported = true;
    std::vector<core::provider::InstalledModel> models;
    std::vector<core::provider::LoadedModel> in_memory;
    std::vector<std::string> calls;                   // "load NAME", "unload NAME", "generate NAME"
    std::map<std::string, nlohmann::json> model_info; // what show() reports, by name

    // A model of `gb` GB on disk (no architecture keys: no KV cache estimate).
    void install(const std::string& name, double gb) {
        core::provider::InstalledModel m;
        m.name = name;
        m.digest = "sha256:" + std::string(64, 'a');
        m.size = static_cast<uint64_t>(gb * 1e9);
        models.push_back(m);
    }
    // Puts a model in memory as if loaded earlier, expiring in 5 minutes.
    void put_loaded(const std::string& name) {
        for (const auto& m : models)
            if (m.name == name) {
                core::provider::LoadedModel l;
                l.name = name;
                l.digest = m.digest;
                l.size = m.size;
                l.size_vram = sizes_reported ? m.size : 0;
                l.size_reported = sizes_reported;
                l.expiry_reported = sizes_reported;
                if (sizes_reported)
                    l.expires_at = core::util::now() + std::chrono::minutes(5);
                in_memory.push_back(l);
                return;
            }
        throw core::Error(core::ErrorKind::NotFound, "no model " + name);
    }
    std::vector<std::string> loaded_names() const {
        std::vector<std::string> out;
        for (const auto& m : in_memory)
            out.push_back(m.name);
        std::sort(out.begin(), out.end());
        return out;
    }

    std::string kind() const override { return kind_; }
    std::string address() const override { return "http://fake"; }
    std::string canonical(std::string_view name) const override {
        return kind_ == "ollama" ? core::provider::ollama::normalize_name(std::string(name))
                                 : std::string(name);
    }
    std::string version() override { return "0.0.0"; }
    std::vector<core::provider::InstalledModel> installed() override { return models; }
    std::vector<core::provider::LoadedModel> loaded() override { return in_memory; }
    core::provider::ModelInfo show(const std::string& model) override {
        for (const auto& m : models)
            if (same_model(m.name, model))
                return {m.name,
                        m.details,
                        {"completion"},
                        model_info.count(m.name) ? model_info.at(m.name) : nlohmann::json::object(),
                        std::nullopt};
        throw core::Error(core::ErrorKind::NotFound, "model '" + model + "' not found");
    }
    void load(const std::string& model, const core::provider::LoadSettings&) override {
        calls.push_back("load " + model);
        for (const auto& m : in_memory)
            if (same_model(m.name, model))
                return;
        put_loaded(canonical(model));
    }
    core::provider::EmbedResult embed(const std::string&, const std::vector<std::string>&,
                                      const core::provider::LoadSettings&) override {
        return {};
    }
    void unload(const std::string& model) override {
        calls.push_back("unload " + model);
        in_memory.erase(std::remove_if(in_memory.begin(), in_memory.end(),
                                       [&](const auto& m) { return same_model(m.name, model); }),
                        in_memory.end());
    }
    core::provider::GenerateMetrics
    generate(const core::provider::GenerateRequest& r,
             const std::function<void(std::string_view)>& on_text) override {
        calls.push_back("generate " + r.model);
        on_text("ok");
        return {};
    }
};

// A fake server, a store in a scratch directory and a registry over both,
// with an empty config: what an operation needs.
struct FakeSetup {
    Scratch dir;
    FakeProvider server;
    core::store::Store store{dir.path};
    core::registry::Registry reg{server, store};
    core::config::Config cfg;
};

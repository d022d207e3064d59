#include "catalog.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <openssl/sha.h>
#include <stdexcept>

namespace modelsim {

using nlohmann::json;

std::string sha256_hex(const std::string& text) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
    std::string out;
    char buf[3];
    for (unsigned char c : md) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        out += buf;
    }
    return out;
}

namespace {

CatalogModel make(std::string name, uint64_t size, std::string family, std::string params,
                  std::vector<std::string> caps, int blocks, int heads, int kv_heads, int embd,
                  int ctx) {
    CatalogModel m;
    m.digest = sha256_hex("modelsim:" + name);
    m.name = std::move(name);
    m.size = size;
    m.modified_at = "2025-05-10T08:06:48.639712648-07:00";
    m.family = std::move(family);
    m.parameter_size = std::move(params);
    m.quantization_level = "Q4_K_M";
    m.capabilities = std::move(caps);
    m.block_count = blocks;
    m.head_count = heads;
    m.head_count_kv = kv_heads;
    m.embedding_length = embd;
    m.context_length = ctx;
    return m;
}

} // namespace

std::string normalize(const std::string& name) {
    auto slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash))
        return name + ":latest";
    return name;
}

uint64_t CatalogModel::kv_cache_bytes(int num_ctx) const {
    if (head_count <= 0)
        return 0;
    uint64_t head_dim = static_cast<uint64_t>(embedding_length / head_count);
    return 2ULL * static_cast<uint64_t>(block_count) * static_cast<uint64_t>(head_count_kv) *
           head_dim * static_cast<uint64_t>(num_ctx) * 2ULL;
}

json CatalogModel::details() const {
    return {{"parent_model", ""},
            {"format", "gguf"},
            {"family", family},
            {"families", json::array({family})},
            {"parameter_size", parameter_size},
            {"quantization_level", quantization_level}};
}

uint64_t CatalogModel::parameter_count() const {
    // "8.0B" -> 8000000000, "137M" -> 137000000
    double n = std::strtod(parameter_size.c_str(), nullptr);
    char unit = parameter_size.empty() ? ' ' : parameter_size.back();
    double scale = unit == 'B' ? 1e9 : unit == 'M' ? 1e6 : unit == 'K' ? 1e3 : 1;
    return static_cast<uint64_t>(n * scale + 0.5);
}

json CatalogModel::model_info() const {
    const std::string& a = family;
    return {{"general.architecture", a},
            {"general.parameter_count", parameter_count()},
            {a + ".block_count", block_count},
            {a + ".attention.head_count", head_count},
            {a + ".attention.head_count_kv", head_count_kv},
            {a + ".embedding_length", embedding_length},
            {a + ".context_length", context_length}};
}

std::vector<CatalogModel> default_catalog() {
    using V = std::vector<std::string>;
    const V chat = {"completion", "tools"};
    return {
        make("llama3.2:1b", 1321098329ULL, "llama", "1.2B", chat, 16, 32, 8, 2048, 131072),
        make("llama3.2:3b", 2000000000ULL, "llama", "3.2B", chat, 28, 24, 8, 3072, 131072),
        make("llama3.1:8b", 4900000000ULL, "llama", "8.0B", chat, 32, 32, 8, 4096, 131072),
        make("llama3.3:70b", 43000000000ULL, "llama", "70.6B", chat, 80, 64, 8, 8192, 131072),
        make("qwen2.5-coder:1.5b", 986000000ULL, "qwen2", "1.5B", chat, 28, 12, 2, 1536, 32768),
        make("qwen2.5-coder:7b", 4700000000ULL, "qwen2", "7.6B", chat, 28, 28, 4, 3584, 32768),
        make("qwen2.5-coder:14b", 9000000000ULL, "qwen2", "14.8B", chat, 48, 40, 8, 5120, 32768),
        make("qwen2.5-coder:32b", 20000000000ULL, "qwen2", "32.8B", chat, 64, 40, 8, 5120, 32768),
        make("deepseek-r1:14b", 9000000000ULL, "qwen2", "14.8B", V{"completion", "thinking"}, 48,
             40, 8, 5120, 131072),
        make("gemma3:12b", 8100000000ULL, "gemma3", "12.2B", V{"completion", "vision"}, 48, 16, 8,
             3840, 131072),
        make("mistral-small:24b", 14000000000ULL, "llama", "23.6B", chat, 40, 32, 8, 5120, 32768),
        make("nomic-embed-text:latest", 274302450ULL, "nomic-bert", "137M", V{"embedding"}, 12, 12,
             12, 768, 2048),
    };
}

std::vector<CatalogModel> load_catalog(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read catalog " + path.string());
    json j = json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("models") || !j["models"].is_array())
        throw std::runtime_error("catalog " + path.string() + " is not {\"models\": [...]}");
    std::vector<CatalogModel> out;
    for (const auto& m : j["models"]) {
        if (!m.is_object() || !m.contains("name") || !m.contains("size"))
            throw std::runtime_error("catalog " + path.string() +
                                     ": every model needs a name and a size");
        CatalogModel c =
            make(normalize(m["name"].get<std::string>()), m["size"].get<uint64_t>(),
                 m.value("family", "llama"), m.value("parameter_size", "8.0B"),
                 m.value("capabilities", std::vector<std::string>{"completion"}),
                 m.value("block_count", 32), m.value("head_count", 32), m.value("head_count_kv", 8),
                 m.value("embedding_length", 4096), m.value("context_length", 8192));
        c.digest = m.value("digest", c.digest);
        c.quantization_level = m.value("quantization_level", c.quantization_level);
        out.push_back(std::move(c));
    }
    return out;
}

std::string lmstudio_key(const std::string& name) {
    std::string key = name;
    if (key.size() > 7 && key.compare(key.size() - 7, 7, ":latest") == 0)
        key.resize(key.size() - 7);
    for (char& c : key)
        if (c == ':')
            c = '-';
    return key;
}

} // namespace modelsim

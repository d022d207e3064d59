#pragma once
// The models a simulated server has installed.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace modelsim {

struct CatalogModel {
    std::string name; // with tag, e.g. "llama3.1:8b"
    std::string digest;
    uint64_t size = 0; // file size in bytes
    std::string modified_at;
    std::string family;
    std::string parameter_size;
    std::string quantization_level;
    std::vector<std::string> capabilities;
    // Architecture numbers used for the KV cache size, as GGUF metadata names them.
    int block_count = 32;
    int head_count = 32;
    int head_count_kv = 8;
    int embedding_length = 4096;
    int context_length = 8192; // the model's trained maximum

    // Bytes of f16 KV cache for num_ctx tokens:
    // 2 (K and V) x layers x kv heads x head dim x num_ctx x 2 bytes.
    uint64_t kv_cache_bytes(int num_ctx) const;
    nlohmann::json details() const;
    nlohmann::json model_info() const;
    uint64_t parameter_count() const; // from parameter_size ("8.0B")
};

// The lowercase hex SHA-256 of `text`, for made-up but well-formed digests.
std::string sha256_hex(const std::string& text);

// A dozen realistic models: the ten of the shared Azure trace (sizes from
// Ollama's library) plus a small chat model and an embedding model.
// A model name as Ollama lists it: "x" -> "x:latest", "ns/x" -> "ns/x:latest".
std::string normalize(const std::string& name);

std::vector<CatalogModel> default_catalog();

// The catalog name as an LM Studio model key: "llama3.1:8b" -> "llama3.1-8b",
// "nomic-embed-text:latest" -> "nomic-embed-text".
std::string lmstudio_key(const std::string& name);

// {"models": [{"name": ..., "size": ..., ...}]}; missing fields take defaults,
// a missing digest is derived from the name. Throws std::runtime_error.
std::vector<CatalogModel> load_catalog(const std::filesystem::path& path);

} // namespace modelsim

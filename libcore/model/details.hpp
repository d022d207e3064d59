#pragma once
// What every layer calls a model's details: its family, size and format as
// the servers describe them (Ollama's /api/tags "details", LM Studio's
// model list). Data only: the store keeps them, the providers fill them.

#include <string>
#include <vector>

namespace core::model {

struct Details {
    std::string parent_model;
    std::string format;
    std::string family;
    std::vector<std::string> families;
    std::string parameter_size;
    std::string quantization_level;
};

} // namespace core::model

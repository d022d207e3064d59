// Test tool: streams one generation through libcore's Ollama provider and
// prints the text and metrics, or the error as modelctl would. Lets the
// end-to-end tests drive mid-stream faults before a subcommand streams.
//
// usage: generate_probe URL MODEL PROMPT

#include "error.hpp"
#include "provider/ollama.hpp"
#include "provider/ollama_host.hpp"

#include <iostream>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: generate_probe URL MODEL PROMPT\n";
        return 2;
    }
    try {
        core::provider::OllamaOptions o;
        o.timeouts.request = std::chrono::seconds(10);
        core::provider::Ollama ollama(core::provider::parse_ollama_host(argv[1]), o);
        core::provider::GenerateRequest req{argv[2], argv[3], std::nullopt, true};
        auto m = ollama.generate(req, [](std::string_view t) { std::cout << t; });
        std::cout << "\neval_count=" << m.eval_count << " done_reason=" << m.done_reason << "\n";
        return 0;
    } catch (const core::Error& e) {
        std::cout << "\n";
        std::cerr << "error(" << static_cast<int>(e.kind()) << "): " << e.what() << "\n";
        return 1;
    }
}

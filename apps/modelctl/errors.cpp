#include "errors.hpp"

#include "util/text.hpp"

#include <iostream>

namespace modelctl {

int exit_code_for(core::ErrorKind kind) {
    using K = core::ErrorKind;
    switch (kind) {
    case K::Usage:
        return kUsage;
    case K::Unreachable:
        return kUnreachable;
    case K::OutOfMemory:
    case K::Refused:
        return kRefused;
    case K::Failed:
    case K::Unauthorized:
    case K::NotFound:
    case K::Busy:
    case K::Protocol:
    case K::Store:
        return kFailed;
    case K::Interrupted:
        return kInterrupted;
    }
    return kFailed;
}

int report(const std::string& message, const std::string& hint, int code) {
    // One line, whatever a server put in its error text: no control
    // characters, no 20 MB message.
    auto clean = [](const std::string& s) {
        return core::util::printable(core::util::shorten(s, 2000));
    };
    std::string line = "modelctl: error: " + clean(message);
    if (!hint.empty())
        line += " (hint: " + clean(hint) + ")";
    std::cerr << line << std::endl;
    return code;
}

nlohmann::ordered_json error_json(const std::exception& e) {
    static const char* names[] = {"failed", "usage",         "unreachable", "not_found",
                                  "busy",   "out_of_memory", "refused",     "protocol",
                                  "store",  "interrupted",   "unauthorized"};
    if (auto* ce = dynamic_cast<const core::Error*>(&e))
        return {{"kind", names[static_cast<int>(ce->kind())]},
                {"message", core::util::shorten(ce->what(), 2000)},
                {"hint", ce->hint()},
                {"exit_code", exit_code_for(ce->kind())}};
    return {{"kind", "failed"}, {"message", e.what()}, {"hint", ""}, {"exit_code", kFailed}};
}

int report(const std::exception& e) {
    if (auto* ce = dynamic_cast<const core::Error*>(&e))
        return report(ce->what(), ce->hint(), exit_code_for(ce->kind()));
    return report(e.what(), "", kFailed);
}

int report(const std::exception& e, bool json) {
    if (json) {
        nlohmann::ordered_json doc = {{"schema", "modelctl.error/v1"}, {"error", error_json(e)}};
        std::cout << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                  << std::endl;
    }
    return report(e);
}

void report_endpoint(const std::string& endpoint, const core::Error& e, int& exit_code) {
    int code = report("endpoint " + endpoint + ": " + e.what(), e.hint(), exit_code_for(e.kind()));
    if (exit_code == 0)
        exit_code = code;
}

nlohmann::ordered_json model_failure(const core::Error& e, const std::string& model,
                                     int& exit_code) {
    using K = core::ErrorKind;
    if (e.kind() == K::Unreachable || e.kind() == K::Usage || e.kind() == K::Store ||
        e.kind() == K::Interrupted)
        throw; // called from a catch block: rethrows the exception as caught
    return failed_model(e, model, exit_code);
}

nlohmann::ordered_json failed_model(const core::Error& e, const std::string& model,
                                    int& exit_code) {
    int code = report(e);
    if (exit_code == 0)
        exit_code = code;
    return {{"model", model}, {"ok", false}, {"error", error_json(e)}};
}

} // namespace modelctl

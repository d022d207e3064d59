#pragma once
// Human tables and JSON on stdout.

#include "provider/provider.hpp"
#include "util/timestamp.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace modelctl {

class Table {
public:
    explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    // Left-aligned columns three spaces apart, as `ollama ps` prints them;
    // headers in bold when colour is on.
    void print(std::ostream& out, bool color) const;

private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

// Pretty JSON on stdout with a trailing newline.
void print_json(const nlohmann::ordered_json& j);

// "Forever", "4 minutes from now", "Stopping...", "Never", as `ollama ps`'s
// UNTIL column.
std::string until_text(const std::optional<core::util::Timestamp>& expires_at,
                       core::util::Timestamp now);
// How long an operation took, one style per magnitude everywhere: "36ms",
// "12.3s", "1m30s", "3d4h".
std::string elapsed_text(double seconds);
// A number with `digits` decimals: fixed(2.345, 1) == "2.3".
std::string fixed(double v, int digits);
// How long ago, as elapsed_text ("3m12s", "850ms"); "-" when unknown.
std::string ago_text(const std::optional<core::util::Timestamp>& t, core::util::Timestamp now);

// Shared JSON pieces of the documented schema (docs/JSON.md).
nlohmann::ordered_json details_json(const core::provider::ModelDetails& d);
// The one shape of "server" in every document: {"kind", "address",
// "version"}, version null unless the command learned it ("" here).
nlohmann::ordered_json server_json(const core::provider::Provider& server,
                                   const std::string& version = "");
nlohmann::ordered_json time_json(const std::optional<core::util::Timestamp>& t);
// "2.5 GB, 100% GPU, until: in 5m", or for a server that does not report
// them (LM Studio) "~4.9 GB (file size), placement and expiry not reported".
std::string loaded_text(const core::provider::LoadedModel& m, core::util::Timestamp now);
nlohmann::ordered_json loaded_json(const core::provider::LoadedModel& m, core::util::Timestamp now);

} // namespace modelctl

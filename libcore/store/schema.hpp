#pragma once
// state.json and events.jsonl as JSON (docs/STORE.md): the current layout,
// written as a table of fields, and the migrations that bring an older file
// up to it, one version at a time, also a table.
//
// Reading a state is two steps: migrate() brings the document from its
// schema_version to kSchemaVersion, and the reader reads the current layout
// only. Fields this modelctl does not know (a newer one wrote them) are kept
// at the top, in each endpoint's section and in each model record, and
// written back as they were, so adding a field never forces a schema bump; a
// bump is for a change an older modelctl would read wrong. Every number read
// is checked against the bounds in state.hpp.

#include "store/state.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace core::store {

inline constexpr int kSchemaVersion = 7;

// One step of an older state.json towards the current layout: a document of
// schema `from` becomes one of `from + 1`. `apply` is null for a step that
// only added fields (absent, they read as empty).
struct Migration {
    int from;
    const char* what;
    void (*apply)(nlohmann::json& document); // throws std::exception on a malformed file
};
const std::vector<Migration>& migrations();

// One field of a model record: its key, the schema that added it, and how it
// is written and read (read is called for a present, non-null value).
struct Field {
    const char* key;
    int since;
    void (*write)(const ModelRecord& m, nlohmann::json& record); // sets record[key], or not
    void (*read)(const nlohmann::json& record, ModelRecord& m);  // throws on a value out of bounds
};
const std::vector<Field>& model_fields();

// The state as written (always kSchemaVersion).
nlohmann::json to_json(const State& state);
// The state as `endpoint` sees it, from a document of any schema up to
// kSchemaVersion. Throws Error{Store} naming what is wrong.
State state_from_json(const nlohmann::json& j, const std::string& endpoint = kDefaultEndpoint);

nlohmann::json to_json(const Event& event);
// nullopt for anything but a well-formed event within the bounds. An event
// from before endpoints (no "endpoint") is the default endpoint's, and names
// the model as it was typed: it reads with Ollama's rule of that time (a
// name without a tag is ":latest"), frozen here with the format it belongs
// to.
std::optional<Event> event_from_json(const nlohmann::json& j);

} // namespace core::store

#pragma once
// Writes metrics in the Prometheus text exposition format (version 0.0.4),
// as node_exporter's textfile collector reads them:
//   # HELP name text        (backslash and newline escaped)
//   # TYPE name gauge|counter
//   name{label="value",...} 1.5
// One HELP and TYPE per family, the family's samples together after them,
// values in Go's float syntax (+Inf, -Inf, NaN). Label values escape
// backslash, double quote and newline. Names are checked against the
// format's rules: [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]*
// for labels (not beginning with "__"); a bad one is a programming error
// (std::invalid_argument).

#include <string>
#include <utility>
#include <vector>

namespace core::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Exposition {
public:
    // Starts a family, or goes back to one already started (its samples are
    // still written together). `type` is "gauge", "counter" or "histogram".
    void family(const std::string& name, const std::string& type, const std::string& help);
    // A sample of the current family; a histogram's samples name their
    // suffix ("_bucket", "_sum", "_count").
    void sample(const Labels& labels, double value, const std::string& suffix = {});
    // Everything so far, families in the order they were started; a family
    // without samples is left out.
    std::string text() const;

private:
    struct Family {
        std::string name, type, help;
        std::vector<std::string> samples;
    };
    std::vector<Family> families_;
    size_t current_ = 0;
};

// A value as Prometheus writes it: integers without a decimal point, others
// in the fewest significant digits that read back as the same double; +Inf,
// -Inf, NaN.
std::string format_value(double v);
std::string escape_label_value(const std::string& v);

} // namespace core::metrics

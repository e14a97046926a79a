#pragma once
// A parser of the Prometheus text exposition format (version 0.0.4), enough
// for tests to read earshot's /metrics: samples with labels, escapes in
// label values, +Inf/-Inf/NaN, optional timestamps, comments skipped.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace earshot::test {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// Throws earshot::Error naming the line number and the fault.
std::vector<Sample> parse_prometheus_text(std::string_view text);

// One scrape, parsed, with lookups. A matcher {label, value} matches a
// sample whose label equals value; value "" also matches an absent label,
// as in PromQL.
class MetricsScrape {
 public:
  MetricsScrape() = default;
  explicit MetricsScrape(std::vector<Sample> samples) : samples_(std::move(samples)) {}
  static MetricsScrape parse(std::string_view text) {
    return MetricsScrape(parse_prometheus_text(text));
  }

  const std::vector<Sample>& samples() const { return samples_; }
  std::vector<Sample> select(std::string_view name, const Labels& matchers = {}) const;
  // Sum over the matching samples; 0 when none match.
  double sum(std::string_view name, const Labels& matchers = {}) const;
  // The matching samples, one a line ("label=value ... value"), for failure
  // messages.
  std::string text(std::string_view name, const Labels& matchers = {}) const;
  // True when at least one sample matches.
  bool has(std::string_view name, const Labels& matchers = {}) const;
  // Distinct values of one label among the matching samples.
  std::vector<std::string> label_values(std::string_view name, const std::string& label,
                                        const Labels& matchers = {}) const;

 private:
  std::vector<Sample> samples_;
};

}  // namespace earshot::test

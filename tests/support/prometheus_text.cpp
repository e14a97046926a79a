#include "prometheus_text.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "common/error.h"

namespace earshot::test {
namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

class LineParser {
 public:
  LineParser(std::string_view line, std::size_t number) : line_(line), number_(number) {}

  Sample parse() {
    Sample sample;
    sample.name = name(true);
    skip_spaces();
    if (peek() == '{') sample.labels = labels();
    skip_spaces();
    sample.value = value(token());
    skip_spaces();
    if (position_ < line_.size()) {
      std::string timestamp = token();
      char* end = nullptr;
      std::strtoll(timestamp.c_str(), &end, 10);
      if (timestamp.empty() || *end != '\0') fail("bad timestamp '" + timestamp + "'");
    }
    skip_spaces();
    if (position_ < line_.size()) fail("unexpected text after the sample");
    return sample;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw Error("metrics line " + std::to_string(number_) + ": " + why + ": " + std::string(line_));
  }
  char peek() const { return position_ < line_.size() ? line_[position_] : '\0'; }
  void skip_spaces() {
    while (peek() == ' ' || peek() == '\t') ++position_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++position_;
  }
  std::string name(bool metric) {
    std::size_t start = position_;
    if (!is_name_start(peek())) fail(metric ? "bad metric name" : "bad label name");
    while (is_name_char(peek()) && (metric || peek() != ':')) ++position_;
    return std::string(line_.substr(start, position_ - start));
  }
  std::string token() {
    std::size_t start = position_;
    while (position_ < line_.size() && peek() != ' ' && peek() != '\t') ++position_;
    return std::string(line_.substr(start, position_ - start));
  }
  std::string quoted() {
    expect('"');
    std::string text;
    while (true) {
      if (position_ >= line_.size()) fail("unterminated label value");
      char c = line_[position_++];
      if (c == '"') return text;
      if (c != '\\') {
        text += c;
        continue;
      }
      if (position_ >= line_.size()) fail("unterminated escape");
      char escaped = line_[position_++];
      if (escaped == 'n') {
        text += '\n';
      } else if (escaped == '\\' || escaped == '"') {
        text += escaped;
      } else {
        fail(std::string("bad escape \\") + escaped);
      }
    }
  }
  Labels labels() {
    expect('{');
    Labels result;
    skip_spaces();
    while (peek() != '}') {
      std::string label = name(false);
      skip_spaces();
      expect('=');
      skip_spaces();
      std::string text = quoted();
      if (!result.emplace(label, text).second) fail("label " + label + " repeated");
      skip_spaces();
      if (peek() == ',') {
        ++position_;
        skip_spaces();
      } else if (peek() != '}') {
        fail("expected ',' or '}'");
      }
    }
    ++position_;
    return result;
  }
  double value(const std::string& text) {
    if (text == "+Inf" || text == "Inf") return INFINITY;
    if (text == "-Inf") return -INFINITY;
    if (text == "NaN") return NAN;
    char* end = nullptr;
    double result = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') fail("bad value '" + text + "'");
    return result;
  }

  std::string_view line_;
  std::size_t number_;
  std::size_t position_ = 0;
};

bool matches(const Sample& sample, std::string_view name, const Labels& matchers) {
  if (sample.name != name) return false;
  for (const auto& [label, wanted] : matchers) {
    auto found = sample.labels.find(label);
    std::string_view actual;  // empty for an absent label
    if (found != sample.labels.end()) actual = found->second;
    if (actual != wanted) return false;
  }
  return true;
}

}  // namespace

std::vector<Sample> parse_prometheus_text(std::string_view text) {
  std::vector<Sample> samples;
  std::size_t number = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    if (line.back() == '\r') line.remove_suffix(1);
    samples.push_back(LineParser(line.substr(first), number).parse());
  }
  return samples;
}

std::vector<Sample> MetricsScrape::select(std::string_view name, const Labels& matchers) const {
  std::vector<Sample> result;
  for (const auto& sample : samples_) {
    if (matches(sample, name, matchers)) result.push_back(sample);
  }
  return result;
}

double MetricsScrape::sum(std::string_view name, const Labels& matchers) const {
  double total = 0;
  for (const auto& sample : samples_) {
    if (matches(sample, name, matchers)) total += sample.value;
  }
  return total;
}

std::string MetricsScrape::text(std::string_view name, const Labels& matchers) const {
  std::string out;
  for (const auto& sample : select(name, matchers)) {
    for (const auto& [label, value] : sample.labels) out += label + "=" + value + " ";
    out += std::to_string(sample.value) + "\n";
  }
  return out;
}

bool MetricsScrape::has(std::string_view name, const Labels& matchers) const {
  for (const auto& sample : samples_) {
    if (matches(sample, name, matchers)) return true;
  }
  return false;
}

std::vector<std::string> MetricsScrape::label_values(std::string_view name,
                                                     const std::string& label,
                                                     const Labels& matchers) const {
  std::set<std::string> values;
  for (const auto& sample : samples_) {
    if (!matches(sample, name, matchers)) continue;
    auto found = sample.labels.find(label);
    if (found != sample.labels.end()) values.insert(found->second);
  }
  return {values.begin(), values.end()};
}

}  // namespace earshot::test

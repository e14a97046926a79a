#include "kernel/load_report.h"

#include <algorithm>
#include <sstream>

namespace earshot::kernel {

namespace {

constexpr std::string_view kLibbpfPrefix = "libbpf: ";
constexpr std::string_view kBeginLog = "-- BEGIN PROG LOAD LOG --";
constexpr std::string_view kEndLog = "-- END PROG LOAD LOG --";

std::vector<std::string> split_lines(const std::vector<std::string>& messages) {
  std::vector<std::string> lines;
  for (const auto& message : messages) {
    std::istringstream in(message);
    std::string line;
    while (std::getline(in, line)) {
      if (std::string_view(line).starts_with(kLibbpfPrefix)) line.erase(0, kLibbpfPrefix.size());
      lines.push_back(line);
    }
  }
  return lines;
}

// "prog 'NAME': rest" -> NAME and rest.
std::optional<std::pair<std::string, std::string>> program_line(std::string_view line) {
  constexpr std::string_view kProg = "prog '";
  if (!line.starts_with(kProg)) return std::nullopt;
  std::size_t end = line.find("': ", kProg.size());
  if (end == std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(line.substr(kProg.size(), end - kProg.size())),
                        std::string(line.substr(end + 3)));
}

bool is_statistics(std::string_view line) {
  return line.starts_with("processed ") || line.starts_with("verification time") ||
         line.starts_with("stack depth") || line.find_first_not_of(" \t") == std::string::npos;
}

}  // namespace

std::string first_failure(const std::vector<std::string>& warnings) {
  for (const auto& line : split_lines(warnings))
    if (line.find_first_not_of(" \t") != std::string::npos) return line;
  return {};
}

std::string verifier_log_tail(std::string_view log, std::size_t lines) {
  std::vector<std::string_view> kept;
  std::size_t start = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string_view::npos) end = log.size();
    std::string_view line = log.substr(start, end - start);
    if (!is_statistics(line)) kept.push_back(line);
    start = end + 1;
  }
  std::string tail;
  std::size_t first = kept.size() > lines ? kept.size() - lines : 0;
  for (std::size_t i = first; i < kept.size(); ++i) {
    if (!tail.empty()) tail += " | ";
    tail += kept[i];
  }
  return tail;
}

std::optional<ProgramRefusal> find_refused_program(const std::vector<std::string>& warnings) {
  std::optional<ProgramRefusal> refusal;
  std::string failure;  // libbpf's own words for the failure
  bool in_log = false;
  for (const auto& line : split_lines(warnings)) {
    if (in_log) {
      if (std::string_view(line).starts_with(kEndLog)) {
        in_log = false;
      } else {
        refusal->verifier_log += line + "\n";
      }
      continue;
    }
    auto named = program_line(line);
    if (!named) continue;
    auto& [program, rest] = *named;
    if (refusal && refusal->program != program) continue;  // the first named program failed
    if (rest.starts_with(kBeginLog)) {
      if (!refusal) refusal = ProgramRefusal{program, {}, {}};
      in_log = true;
      continue;
    }
    if (rest.find("fail") == std::string::npos && rest.find("error") == std::string::npos &&
        rest.find("invalid") == std::string::npos)
      continue;
    if (!refusal) refusal = ProgramRefusal{program, {}, {}};
    if (failure.empty()) failure = rest;
  }
  if (!refusal) return std::nullopt;
  std::string tail = verifier_log_tail(refusal->verifier_log);
  if (!tail.empty())
    refusal->reason = "verifier: " + tail;
  else
    refusal->reason = failure.empty() ? "no reason given" : failure;
  return refusal;
}

}  // namespace earshot::kernel

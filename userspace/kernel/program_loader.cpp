#include "kernel/program_loader.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "common/log.h"

namespace earshot::kernel {

namespace {

thread_local std::vector<std::string>* collecting = nullptr;

int libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
  char line[4096];
  va_list copy;
  va_copy(copy, args);
  int needed = std::vsnprintf(line, sizeof line, format, copy);
  va_end(copy);
  std::string text;
  if (needed >= static_cast<int>(sizeof line)) {
    // A verifier log: libbpf prints it whole in one message.
    text.resize(static_cast<std::size_t>(needed) + 1);
    std::vsnprintf(text.data(), text.size(), format, args);
    text.resize(static_cast<std::size_t>(needed));
  } else {
    text = line;
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (level == LIBBPF_WARN && collecting) collecting->push_back(text);
  log::write(level == LIBBPF_WARN ? spdlog::level::debug : spdlog::level::trace, "libbpf",
             {{"text", text}});
  return 0;
}

std::set<std::string> names_from_environment(const char* variable) {
  std::set<std::string> names;
  const char* value = std::getenv(variable);
  if (!value) return names;
  std::istringstream in(value);
  std::string name;
  while (std::getline(in, name, ','))
    if (!name.empty()) names.insert(name);
  return names;
}

// Whether the ladders let a program load: one in no ladder, or the first
// build of its ladder that is not off.
bool loaded_by_ladders(const ProgramChoice& choice, const std::string& program) {
  for (const auto& ladder : choice.ladders) {
    if (std::find(ladder.begin(), ladder.end(), program) == ladder.end()) continue;
    for (const auto& build : ladder)
      if (!choice.off.count(build)) return build == program;
    return false;
  }
  return true;
}

}  // namespace

void install_libbpf_logger() {
  libbpf_set_print(libbpf_log);
}

LibbpfWarnings::LibbpfWarnings() : previous_(collecting) {
  collecting = &lines_;
}

LibbpfWarnings::~LibbpfWarnings() {
  collecting = previous_;
}

void apply_choice(bpf_object* object, const ProgramChoice& choice) {
  static const std::set<std::string> refuse =
      names_from_environment("EARSHOT_TEST_REFUSE_PROGRAMS");
  bpf_program* program;
  bpf_object__for_each_program(program, object) {
    std::string name = bpf_program__name(program);
    bool load = !choice.off.count(name) && loaded_by_ladders(choice, name);
    bpf_program__set_autoload(program, load);
    if (load && refuse.count(name)) {
      // Offered as a sysctl program, whose context is 8 bytes and whose
      // helpers are few, the program reads past its context or calls a
      // helper it may not: the verifier refuses it, with a log.
      bpf_program__set_type(program, BPF_PROG_TYPE_CGROUP_SYSCTL);
      bpf_program__set_expected_attach_type(program, BPF_CGROUP_SYSCTL);
    }
  }
}

void leave_out_refused(std::string_view object_name, bpf_object* object, int err,
                       const std::vector<std::string>& warnings, ProgramChoice& choice,
                       std::vector<ProgramRefusal>& refused) {
  auto refusal = find_refused_program(warnings);
  bpf_program* program =
      refusal ? bpf_object__find_program_by_name(object, refusal->program.c_str()) : nullptr;
  if (!program || !bpf_program__autoload(program)) {
    std::string cause = first_failure(warnings);
    throw Error(fmt::format("{} BPF object did not load: {}{}", object_name, errno_text(err),
                            cause.empty() ? "" : ": " + cause));
  }
  refusal->reason = fmt::format("refused by the kernel ({}): {}", errno_text(err), refusal->reason);
  log::warn("BPF program refused, loading the others without it",
            {{"object", std::string(object_name)},
             {"program", refusal->program},
             {"reason", refusal->reason}});
  if (!refusal->verifier_log.empty())
    log::debug("verifier log", {{"program", refusal->program}, {"log", refusal->verifier_log}});
  choice.off.insert(refusal->program);
  refused.push_back(std::move(*refusal));
}

}  // namespace earshot::kernel

#pragma once
// What libbpf said while an object failed to load, turned into which program
// the kernel refused and why. Pure: no libbpf, no I/O, unit-tested.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace earshot::kernel {

struct ProgramRefusal {
  std::string program;
  std::string reason;        // one line: libbpf's failure and the verifier's last lines
  std::string verifier_log;  // the whole log the kernel gave, when it gave one
};

// The program a failed bpf_object__load stopped at, from libbpf's warning
// lines of that load (each possibly several lines, with or without the
// "libbpf: " prefix). libbpf loads programs in order and stops at the first
// that fails, naming it ("prog 'NAME': ..."). nullopt when no program is
// named: the object failed for another reason (a map, the kernel's BTF).
std::optional<ProgramRefusal> find_refused_program(const std::vector<std::string>& warnings);

// The first of libbpf's warnings, without its prefix: the cause where an
// object fails as a whole ("failed to parse target BTF: -22"); later ones
// only repeat that the load failed. Empty when there is none.
std::string first_failure(const std::vector<std::string>& warnings);

// The last lines of a verifier log that say why, without the statistics
// lines ("processed N insns ...", "verification time ..."), joined by " | ".
std::string verifier_log_tail(std::string_view log, std::size_t lines = 2);

}  // namespace earshot::kernel

#pragma once
// Loads a BPF object so that each program fails alone: when the kernel or
// the verifier refuses one, it is left out and the object is opened and
// loaded again without it, so the others load (libbpf loads an object whole
// or not at all). Every refusal is kept with the verifier's words.
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <cerrno>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "kernel/bpf_handles.h"
#include "kernel/load_report.h"

namespace earshot::kernel {

// Which programs of an object to load.
struct ProgramChoice {
  std::set<std::string> off;  // not loaded: turned off in config, or not wanted
  // Builds of one program, best first: only the first not off is loaded;
  // when the kernel refuses it, the next one is tried.
  std::vector<std::vector<std::string>> ladders;
};

// Sends libbpf's messages to earshot's log (its warnings at debug: earshot
// reports failures per hook, with reasons). Called once at start.
void install_libbpf_logger();

// Sets each program's autoload from the choice. The environment variable
// EARSHOT_TEST_REFUSE_PROGRAMS (comma-separated program names) makes the
// named programs ones the verifier refuses (offered as another program type), for tests that prove
// a refused program fails alone on any kernel.
void apply_choice(bpf_object* object, const ProgramChoice& choice);

// After a failed load: records which program was refused and leaves it out
// of the choice (giving way to the next build of its ladder). Throws Error
// when no program can be blamed: the object as a whole cannot load.
void leave_out_refused(std::string_view object_name, bpf_object* object, int err,
                       const std::vector<std::string>& warnings, ProgramChoice& choice,
                       std::vector<ProgramRefusal>& refused);

// libbpf's warnings on this thread while alive.
class LibbpfWarnings {
 public:
  LibbpfWarnings();
  ~LibbpfWarnings();
  LibbpfWarnings(const LibbpfWarnings&) = delete;
  LibbpfWarnings& operator=(const LibbpfWarnings&) = delete;
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::vector<std::string> lines_;
  std::vector<std::string>* previous_;
};

// open() makes a fresh skeleton; prepare() readies it before loading (maps
// shared with another object, sizes), throwing Error if it cannot. Returns
// the loaded skeleton; refused gains one entry a program left out.
template <typename Skeleton, void (*Destroy)(Skeleton*)>
SkeletonPtr<Skeleton, Destroy> load_programs_alone(std::string_view object_name,
                                                   const std::function<Skeleton*()>& open,
                                                   const std::function<void(Skeleton&)>& prepare,
                                                   int (*load)(Skeleton*), ProgramChoice choice,
                                                   std::vector<ProgramRefusal>& refused) {
  for (;;) {
    SkeletonPtr<Skeleton, Destroy> skeleton(open());
    if (!skeleton)
      throw Error(fmt::format("{} BPF object did not open: {}", object_name, errno_text(errno)));
    prepare(*skeleton);
    apply_choice(skeleton->obj, choice);
    LibbpfWarnings warnings;
    int err = load(skeleton.get());
    if (!err) return skeleton;
    leave_out_refused(object_name, skeleton->obj, err, warnings.lines(), choice, refused);
  }
}

}  // namespace earshot::kernel

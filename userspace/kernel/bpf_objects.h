#pragma once
// earshot's BPF objects (kernel/hook_table.h, BpfObject), opened and loaded
// so that each program fails alone (kernel/program_loader.h), on the maps of
// the objects loaded before them.
//
// Maps are shared one way: an object loaded later uses, for every map it
// has, the map of the same name of an object loaded before it (ordinary
// maps by name; of the internal ones only custom `.data.*` sections, which
// libbpf names without the object's prefix). Its own .rodata and .bss stay
// its own.
#include <bpf/libbpf.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/hook_table.h"
#include "kernel/load_report.h"
#include "kernel/program_loader.h"

namespace earshot::kernel {

class LoadedObject {
 public:
  using Destroy = void (*)(void* skeleton);
  LoadedObject(BpfObject which, void* skeleton, bpf_object* object, Destroy destroy);
  ~LoadedObject();
  LoadedObject(const LoadedObject&) = delete;
  LoadedObject& operator=(const LoadedObject&) = delete;

  BpfObject which() const { return which_; }
  bpf_object* object() const { return object_; }
  // The program of that name, loaded or not; nullptr if the object has none.
  bpf_program* program(std::string_view name) const;
  // The map of that name; nullptr if the object has none.
  bpf_map* map(std::string_view name) const;

 private:
  BpfObject which_;
  void* skeleton_;
  bpf_object* object_;
  Destroy destroy_;
};

struct LoadRequest {
  BpfObject which = BpfObject::net;
  ProgramChoice choice;
  std::string btf_file;                    // kernel.btf_file; empty: the kernel's own
  std::vector<const LoadedObject*> share;  // loaded before: their maps are used
};

// Throws Error when the object cannot load at all; programs refused alone
// are added to `refused`.
std::unique_ptr<LoadedObject> load_object(const LoadRequest& request,
                                          std::vector<ProgramRefusal>& refused);

// How an object is named in messages ("network BPF object did not load").
std::string_view display_name(BpfObject object);

}  // namespace earshot::kernel

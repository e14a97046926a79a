#include "kernel/bpf_objects.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

// The ABI first: the skeletons declare global data with its structs.
// clang-format off
#include "kernel/abi.h"
#include "accept.skel.h"
#include "capture_kernel.skel.h"
#include "capture_video.skel.h"
#include "capture_user.skel.h"
#include "net.skel.h"
// clang-format on

#include "common/error.h"

namespace earshot::kernel {

namespace {

bool shared_by_name(const bpf_map* map) {
  return !bpf_map__is_internal(map) || std::string_view(bpf_map__name(map)).starts_with(".data.");
}

void share_maps(bpf_object* into, const std::vector<const LoadedObject*>& from) {
  bpf_map* map;
  bpf_object__for_each_map(map, into) {
    if (!shared_by_name(map)) continue;
    for (const LoadedObject* earlier : from) {
      bpf_map* theirs = earlier ? earlier->map(bpf_map__name(map)) : nullptr;
      if (!theirs) continue;
      if (int err = bpf_map__reuse_fd(map, bpf_map__fd(theirs)); err)
        throw Error(fmt::format("cannot share map {}: {}", bpf_map__name(map), errno_text(err)));
      break;
    }
  }
}

// sock_slots holds EARSHOT_SOCK_SLOTS entries for each possible CPU (the
// program indexes it by the CPU it runs on).
void size_sock_slots(bpf_object* object) {
  bpf_map* slots = bpf_object__find_map_by_name(object, "sock_slots");
  if (!slots) return;
  int cpus = libbpf_num_possible_cpus();
  int err = cpus <= 0
                ? (cpus < 0 ? cpus : -EINVAL)
                : bpf_map__set_max_entries(slots, static_cast<__u32>(cpus) * EARSHOT_SOCK_SLOTS);
  if (err) throw Error(fmt::format("cannot size sock_slots: {}", errno_text(err)));
}

template <typename Skeleton, void (*Destroy)(Skeleton*)>
std::unique_ptr<LoadedObject> load_skeleton(const LoadRequest& request,
                                            Skeleton* (*open)(const bpf_object_open_opts*),
                                            int (*load)(Skeleton*),
                                            std::vector<ProgramRefusal>& refused) {
  LIBBPF_OPTS(bpf_object_open_opts, open_options,
              .btf_custom_path = request.btf_file.empty() ? nullptr : request.btf_file.c_str());
  auto skeleton = load_programs_alone<Skeleton, Destroy>(
      display_name(request.which), [&] { return open(&open_options); },
      [&](Skeleton& s) {
        share_maps(s.obj, request.share);
        size_sock_slots(s.obj);
      },
      load, request.choice, refused);
  bpf_object* object = skeleton->obj;
  return std::make_unique<LoadedObject>(request.which, skeleton.release(), object,
                                        [](void* s) { Destroy(static_cast<Skeleton*>(s)); });
}

}  // namespace

LoadedObject::LoadedObject(BpfObject which, void* skeleton, bpf_object* object, Destroy destroy)
    : which_(which), skeleton_(skeleton), object_(object), destroy_(destroy) {}

LoadedObject::~LoadedObject() {
  destroy_(skeleton_);
}

bpf_program* LoadedObject::program(std::string_view name) const {
  return bpf_object__find_program_by_name(object_, std::string(name).c_str());
}

bpf_map* LoadedObject::map(std::string_view name) const {
  return bpf_object__find_map_by_name(object_, std::string(name).c_str());
}

std::string_view display_name(BpfObject object) {
  return object == BpfObject::net ? "network" : to_string(object);
}

std::unique_ptr<LoadedObject> load_object(const LoadRequest& request,
                                          std::vector<ProgramRefusal>& refused) {
  switch (request.which) {
    case BpfObject::net:
      return load_skeleton<net_bpf, net_bpf__destroy>(request, net_bpf__open_opts, net_bpf__load,
                                                      refused);
    case BpfObject::accept:
      return load_skeleton<accept_bpf, accept_bpf__destroy>(request, accept_bpf__open_opts,
                                                            accept_bpf__load, refused);
    case BpfObject::capture_user:
      return load_skeleton<capture_user_bpf, capture_user_bpf__destroy>(
          request, capture_user_bpf__open_opts, capture_user_bpf__load, refused);
    case BpfObject::capture_kernel:
      return load_skeleton<capture_kernel_bpf, capture_kernel_bpf__destroy>(
          request, capture_kernel_bpf__open_opts, capture_kernel_bpf__load, refused);
    case BpfObject::capture_video:
      return load_skeleton<capture_video_bpf, capture_video_bpf__destroy>(
          request, capture_video_bpf__open_opts, capture_video_bpf__load, refused);
    case BpfObject::none:
      break;
  }
  throw Error("no BPF object to load");
}

}  // namespace earshot::kernel

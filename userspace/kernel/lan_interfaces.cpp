#include "kernel/lan_interfaces.h"

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <net/if.h>

#include <cerrno>

#include "common/error.h"
#include "common/log.h"
#include "kernel/interface_plan.h"

namespace earshot::kernel {

namespace {

std::map<std::string, std::uint32_t> present_indexes(const std::vector<std::string>& names) {
  std::map<std::string, std::uint32_t> present;
  for (const auto& name : names)
    if (std::uint32_t index = if_nametoindex(name.c_str())) present[name] = index;
  return present;
}

}  // namespace

LanInterfaces::LanInterfaces(std::vector<std::string> names, bpf_map* map)
    : names_(std::move(names)), map_(map) {
  for (const auto& [name, index] : present_indexes(names_)) join(name, index);
}

std::vector<std::string> LanInterfaces::missing() const {
  std::vector<std::string> missing;
  for (const auto& name : names_)
    if (!in_use_.contains(name)) missing.push_back(name);
  return missing;
}

void LanInterfaces::join(const std::string& name, std::uint32_t index) {
  std::uint8_t one = 1;
  if (map_ && bpf_map_update_elem(bpf_map__fd(map_), &index, &one, BPF_ANY) != 0)
    throw Error(fmt::format("cannot write lan_interfaces: {}", errno_text(errno)));
  in_use_[name] = index;
}

void LanInterfaces::leave(const std::string& name, std::uint32_t index) {
  filters_.erase(name);
  if (map_) bpf_map_delete_elem(bpf_map__fd(map_), &index);  // ENOENT: already gone
  in_use_.erase(name);
}

void LanInterfaces::attach_tc(bpf_program* program, bool ingress, std::uint32_t slot) {
  if (in_use_.empty())
    throw Error(fmt::format("no LAN interface found (gateway.lan_interfaces: {})",
                            fmt::join(names_, ", ")));
  std::map<std::string, std::unique_ptr<TcFilter>> made;
  for (const auto& [name, index] : in_use_)
    made[name] = std::make_unique<TcFilter>(program, name, ingress, slot);
  for (auto& [name, filter] : made) filters_[name].push_back(std::move(filter));
  programs_.push_back({program, ingress, slot});
}

void LanInterfaces::refresh() {
  for (const auto& change : plan_lan_changes(names_, in_use_, present_indexes(names_))) {
    if (change.old_index) {
      leave(change.name, change.old_index);
      log::info("gateway: LAN interface gone", {{"interface", change.name}});
    }
    if (!change.new_index) continue;
    try {
      join(change.name, change.new_index);
      for (const auto& p : programs_)
        filters_[change.name].push_back(
            std::make_unique<TcFilter>(p.program, change.name, p.ingress, p.slot));
      log::info("gateway: LAN interface followed", {{"interface", change.name}});
    } catch (const Error& e) {
      log::error("gateway: cannot follow LAN interface",
                 {{"interface", change.name}, {"error", e.what()}});
    }
  }
}

}  // namespace earshot::kernel

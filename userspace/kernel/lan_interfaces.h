#pragma once
// Gateway mode's LAN interfaces, followed while the daemon runs: the
// `lan_interfaces` map the FORWARD hook reads, and the legacy tc filters of
// the older tier, kept on the interfaces of the configured names as they
// appear, go, or are made again (a Wi-Fi access point that comes up after
// earshot, a bridge rebuilt by the router's configuration).
#include <bpf/libbpf.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernel/tc_filter.h"

namespace earshot::kernel {

class LanInterfaces {
 public:
  // Writes the indexes of the names present now into `map` (may be null:
  // no map to keep, only filters). Throws Error when the map refuses.
  LanInterfaces(std::vector<std::string> names, bpf_map* map);

  const std::vector<std::string>& names() const { return names_; }
  // The configured names not present at the last look.
  std::vector<std::string> missing() const;
  bool any_present() const { return !in_use_.empty(); }

  // Puts `program` at ingress or egress of every present interface, now
  // and as they come, in `slot` (TcFilter). Throws Error when none is
  // present or one refuses; then none keeps it.
  void attach_tc(bpf_program* program, bool ingress, std::uint32_t slot = 0);

  // Without blocking: follows the names to their interfaces now. What
  // fails (a filter refused on a new interface) is logged and tried again
  // when that interface is made anew.
  void refresh();

 private:
  struct Filtered {
    bpf_program* program;
    bool ingress;
    std::uint32_t slot;
  };
  void join(const std::string& name, std::uint32_t index);
  void leave(const std::string& name, std::uint32_t index);

  std::vector<std::string> names_;
  bpf_map* map_;
  std::map<std::string, std::uint32_t> in_use_;  // name -> index, present ones
  std::vector<Filtered> programs_;
  std::map<std::string, std::vector<std::unique_ptr<TcFilter>>> filters_;  // by name
};

}  // namespace earshot::kernel

#include "kernel/interface_plan.h"

#include <net/if_arp.h>

#include <algorithm>
#include <iterator>

namespace earshot::kernel {

bool has_ethernet_header(unsigned short arphrd_type) {
  return arphrd_type == ARPHRD_ETHER || arphrd_type == ARPHRD_LOOPBACK;
}

InterfaceChanges plan_interface_changes(const std::vector<NetInterface>& present,
                                        const std::set<int>& attached,
                                        const std::set<int>& failed) {
  InterfaceChanges changes;
  std::set<int> present_indexes;
  for (const auto& interface : present) {
    present_indexes.insert(interface.index);
    if (!attached.contains(interface.index) && !failed.contains(interface.index))
      changes.attach.push_back(interface);
  }
  std::ranges::copy_if(attached, std::back_inserter(changes.detach),
                       [&](int index) { return !present_indexes.contains(index); });
  std::ranges::copy_if(failed, std::back_inserter(changes.forget),
                       [&](int index) { return !present_indexes.contains(index); });
  return changes;
}

}  // namespace earshot::kernel

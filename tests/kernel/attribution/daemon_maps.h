#pragma once
// A running daemon's BPF maps, read from outside: what its hooks counted,
// before any naming or joining.
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/unique_fd.h"
#include "kernel/abi.h"

namespace earshot::test {

// The daemon's map called `name`, found through its descriptors' fdinfo.
UniqueFd daemon_map(pid_t pid, const std::string& name);

earshot_sock_slot read_slot(const UniqueFd& slots, std::uint32_t key);

// One slot of the daemon's totals map (enum earshot_total_slot) on one CPU.
earshot_counters read_total(pid_t daemon, std::uint32_t slot, int cpu);

// Bytes the daemon's counting hook put under an IPv4 destination, in the
// flows map and the socket slots of every CPU, whoever owns the socket.
std::uint64_t counted_to_ipv4(pid_t daemon, const std::string& address);

}  // namespace earshot::test

#pragma once
// DNS answers are read at tcx ingress of every interface of a monitored
// network namespace, so only that namespace's packets pay for the program,
// and it reads them directly. Interfaces come and go (Wi-Fi, VPNs, veths):
// a netlink socket in the namespace says when to look again.
#include <bpf/libbpf.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "common/unique_fd.h"
#include "kernel/bpf_handles.h"

namespace earshot::kernel {

struct DnsPrograms {
  bpf_program* ethernet = nullptr;  // for packets that start with an Ethernet header
  bpf_program* ip = nullptr;        // for packets that start at the IP header
};

class DnsIngress {
 public:
  // Attaches to every interface of the namespace at `netns` (empty: the
  // calling thread's). Throws Error when no interface takes the program
  // (a kernel without tcx, before 6.6), naming the first failure.
  DnsIngress(DnsPrograms programs, std::filesystem::path netns);
  ~DnsIngress();
  DnsIngress(const DnsIngress&) = delete;
  DnsIngress& operator=(const DnsIngress&) = delete;

  // Where it is attached, for earshot_hook_attached's detail.
  std::string detail() const;
  std::size_t interfaces() const { return attached_.size(); }

  // Never blocks: when interfaces came or went since the last call, attaches
  // to the new ones and lets go of those that left. Throws Error.
  void refresh();

 private:
  struct Attached {
    std::string name;
    BpfLink link;
  };
  void rescan(bool first_scan);

  DnsPrograms programs_;
  std::filesystem::path netns_;
  UniqueFd netlink_;
  std::map<int, Attached> attached_;  // by interface index
  std::set<int> failed_;
  std::string first_failure_;
};

}  // namespace earshot::kernel

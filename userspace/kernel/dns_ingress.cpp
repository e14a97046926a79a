#include "kernel/dns_ingress.h"

#include <fmt/format.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <ranges>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "kernel/interface_plan.h"
#include "kernel/netns_scope.h"

namespace earshot::kernel {

namespace {

struct NameIndexDeleter {
  void operator()(struct if_nameindex* list) const noexcept { if_freenameindex(list); }
};

// The interfaces of the calling thread's namespace, with their device types.
std::vector<NetInterface> list_interfaces() {
  std::unique_ptr<struct if_nameindex, NameIndexDeleter> list(if_nameindex());
  if (!list) throw Error(fmt::format("cannot list network interfaces: {}", errno_text(errno)));
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throw Error(fmt::format("cannot open a socket: {}", errno_text(errno)));
  std::vector<NetInterface> interfaces;
  for (const struct if_nameindex* it = list.get(); it->if_index != 0; ++it) {
    ifreq request{};
    fmt::format_to_n(request.ifr_name, IFNAMSIZ - 1, "{}", it->if_name);
    // Gone since the listing: the next netlink message brings it up again.
    if (::ioctl(sock.get(), SIOCGIFHWADDR, &request) != 0) continue;
    interfaces.push_back({static_cast<int>(it->if_index), it->if_name,
                          static_cast<unsigned short>(request.ifr_hwaddr.sa_family)});
  }
  return interfaces;
}

// Subscribed to link changes of the calling thread's namespace.
UniqueFd open_link_monitor() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) throw Error(fmt::format("cannot open a netlink socket: {}", errno_text(errno)));
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = RTMGRP_LINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw Error(fmt::format("cannot subscribe to link changes: {}", errno_text(errno)));
  return fd;
}

}  // namespace

DnsIngress::DnsIngress(DnsPrograms programs, std::filesystem::path netns)
    : programs_(programs), netns_(std::move(netns)) {
  std::optional<NetnsScope> inside;
  if (!netns_.empty()) inside.emplace(netns_);
  // Subscribed before the first listing, so no interface falls between.
  netlink_ = open_link_monitor();
  rescan(true);
  if (attached_.empty())
    throw Error(first_failure_.empty() ? std::string("no network interface") : first_failure_);
}

DnsIngress::~DnsIngress() {
  std::vector<BpfLink> links;
  for (auto& [index, attached] : attached_) links.push_back(std::move(attached.link));
  release_links(links);
}

std::string DnsIngress::detail() const {
  std::vector<std::string> names;
  for (const auto& [index, attached] : attached_) names.push_back(attached.name);
  return fmt::format("tcx ingress of {} ({}), and of interfaces added later",
                     netns_.empty() ? std::string("this namespace") : netns_.string(),
                     fmt::join(names, ", "));
}

void DnsIngress::refresh() {
  // Any message (a link added, removed, renamed, up or down) or a lost one
  // (ENOBUFS): list again. Reading to EAGAIN keeps the socket empty.
  bool changed = false;
  char buf[8192];
  while (true) {
    ssize_t n = ::recv(netlink_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0 || (n < 0 && errno == ENOBUFS)) {
      changed = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  if (!changed) return;
  std::optional<NetnsScope> inside;
  if (!netns_.empty()) inside.emplace(netns_);
  rescan(false);
}

void DnsIngress::rescan(bool first_scan) {
  std::set<int> attached_indexes;
  for (const auto& [index, attached] : attached_) attached_indexes.insert(index);
  InterfaceChanges changes = plan_interface_changes(list_interfaces(), attached_indexes, failed_);
  for (int index : changes.forget) failed_.erase(index);
  std::vector<BpfLink> leaving;
  for (int index : changes.detach) {
    log::info("dns ingress: interface gone", {{"interface", attached_[index].name}});
    leaving.push_back(std::move(attached_[index].link));
    attached_.erase(index);
  }
  release_links(leaving);
  for (const auto& interface : changes.attach) {
    bpf_program* prog =
        has_ethernet_header(interface.arphrd_type) ? programs_.ethernet : programs_.ip;
    bpf_link* link = bpf_program__attach_tcx(prog, interface.index, nullptr);
    if (!link) {
      std::string reason = fmt::format("tcx ingress of {}: {}", interface.name, errno_text(errno));
      if (first_failure_.empty()) first_failure_ = reason;
      failed_.insert(interface.index);
      log::warn("dns ingress: not attached", {{"reason", reason}});
      continue;
    }
    attached_[interface.index] = Attached{interface.name, BpfLink(link)};
    // Those present at start are in the hook's detail; later ones are news.
    if (!first_scan) log::info("dns ingress: attached", {{"interface", interface.name}});
  }
}

}  // namespace earshot::kernel

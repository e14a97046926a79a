#include "resolve/sound_server.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/unique_fd.h"

namespace earshot::resolve {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string file_name(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool server_named(Tier tier, const std::string& comm) {
  if (tier == Tier::libpulse) return comm == "pulseaudio" || comm == "pipewire-pulse";
  return comm == "pipewire";
}

bool socket_named(Tier tier, const std::string& path) {
  if (path.empty()) return false;
  if (tier == Tier::libpulse) return ends_with(path, "/native") || path == "native";
  return file_name(path).rfind("pipewire-", 0) == 0;
}

// Inodes of the sockets open in a process ("socket:[N]" links in fd/).
std::set<std::uint64_t> socket_inodes(const std::filesystem::path& fd_dir) {
  std::set<std::uint64_t> inodes;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(fd_dir, ec)) {
    std::error_code link_ec;
    std::string target = std::filesystem::read_symlink(entry.path(), link_ec).string();
    if (link_ec || target.rfind("socket:[", 0) != 0) continue;
    inodes.insert(std::strtoull(target.c_str() + 8, nullptr, 10));
  }
  return inodes;
}

struct UnixSocket {
  std::uint32_t peer = 0;
  std::string path;
};

// Every Unix socket of the network namespace this socket was made in:
// inode -> its peer's inode and its bound path.
std::map<std::uint32_t, UnixSocket> unix_sockets(int netlink) {
  struct {
    nlmsghdr header;
    unix_diag_req request;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request.sdiag_family = AF_UNIX;
  message.request.udiag_states = ~0U;
  message.request.udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_NAME;
  if (::send(netlink, &message, sizeof message, 0) != static_cast<ssize_t>(sizeof message))
    throw Error("sock_diag: send: " + errno_text(errno));
  std::map<std::uint32_t, UnixSocket> sockets;
  std::vector<char> buffer(32768);
  for (;;) {
    ssize_t got = ::recv(netlink, buffer.data(), buffer.size(), 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error("sock_diag: recv: " + errno_text(errno));
    }
    int left = static_cast<int>(got);
    for (auto* header = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(header, left);
         header = NLMSG_NEXT(header, left)) {
      if (header->nlmsg_type == NLMSG_DONE) return sockets;
      if (header->nlmsg_type == NLMSG_ERROR) throw Error("sock_diag: the kernel refused the dump");
      const auto* diag = static_cast<const unix_diag_msg*>(NLMSG_DATA(header));
      UnixSocket& socket = sockets[diag->udiag_ino];
      int attributes = static_cast<int>(header->nlmsg_len - NLMSG_LENGTH(sizeof *diag));
      for (auto* attribute = reinterpret_cast<rtattr*>(const_cast<unix_diag_msg*>(diag) + 1);
           RTA_OK(attribute, attributes); attribute = RTA_NEXT(attribute, attributes)) {
        const char* data = static_cast<const char*>(RTA_DATA(attribute));
        std::size_t size = RTA_PAYLOAD(attribute);
        if (attribute->rta_type == UNIX_DIAG_PEER && size >= sizeof(std::uint32_t)) {
          std::memcpy(&socket.peer, data, sizeof socket.peer);
        } else if (attribute->rta_type == UNIX_DIAG_NAME && size > 0) {
          // An abstract address starts with a NUL: shown with '@', as ss does.
          socket.path = data[0] == '\0' ? "@" + std::string(data + 1, size - 1)
                                        : std::string(data, strnlen(data, size));
        }
      }
    }
  }
}

// A sock_diag socket made in the network namespace of `pid` (a thread
// enters it, so the caller's namespace never changes).
UniqueFd netlink_in_netns_of(const std::filesystem::path& process_dir) {
  UniqueFd target(::open((process_dir / "ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) throw Error("cannot open the process's network namespace: " + errno_text(errno));
  struct stat ours {
  }, theirs{};
  bool same = ::stat("/proc/self/ns/net", &ours) == 0 && ::fstat(target.get(), &theirs) == 0 &&
              ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev;
  auto make = [] {
    return UniqueFd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  };
  if (same) return make();
  UniqueFd made;
  int error = 0;
  std::thread inside([&] {
    if (::setns(target.get(), CLONE_NEWNET) != 0) {
      error = errno;
      return;
    }
    made = make();
    if (!made) error = errno;
  });
  inside.join();
  if (error) throw Error("sock_diag in the process's network namespace: " + errno_text(error));
  return made;
}

std::string read_comm(const std::filesystem::path& process_dir) {
  std::ifstream in(process_dir / "comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

}  // namespace

std::optional<SocketPeer> choose_sound_server(Tier tier, const std::vector<SocketPeer>& peers) {
  for (const auto& peer : peers)
    if (server_named(tier, peer.comm)) return peer;
  for (const auto& peer : peers)
    if (socket_named(tier, peer.path)) return peer;
  return std::nullopt;
}

std::string sound_server_protocol(Tier tier) {
  return tier == Tier::libpulse ? "pulse" : "pipewire";
}

SoundServerFinder::SoundServerFinder(std::filesystem::path proc_root)
    : proc_root_(std::move(proc_root)) {}

std::vector<SocketPeer> SoundServerFinder::peers(std::uint32_t client_pid) const {
  const std::filesystem::path dir = proc_root_ / std::to_string(client_pid);
  std::set<std::uint64_t> mine = socket_inodes(dir / "fd");
  if (mine.empty()) return {};
  UniqueFd netlink = netlink_in_netns_of(dir);
  if (!netlink) throw Error("sock_diag: " + errno_text(errno));
  auto sockets = unix_sockets(netlink.get());
  // The peers' inodes, and the path each is bound to when it is in this
  // namespace's table (a server elsewhere shows only its inode).
  std::map<std::uint64_t, std::string> wanted;
  for (std::uint64_t inode : mine) {
    auto it = sockets.find(static_cast<std::uint32_t>(inode));
    if (it == sockets.end() || it->second.peer == 0) continue;
    auto peer = sockets.find(it->second.peer);
    wanted[it->second.peer] = peer == sockets.end() ? "" : peer->second.path;
  }
  std::vector<SocketPeer> out;
  if (wanted.empty()) return out;
  // Who holds each peer socket: one pass over every process's descriptors.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(proc_root_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::uint32_t pid = static_cast<std::uint32_t>(std::stoul(name));
    if (pid == client_pid) continue;
    for (std::uint64_t inode : socket_inodes(entry.path() / "fd")) {
      auto it = wanted.find(inode);
      if (it == wanted.end()) continue;
      out.push_back({pid, read_comm(entry.path()), it->second});
      wanted.erase(it);
      break;
    }
    if (wanted.empty()) break;
  }
  return out;
}

std::optional<SocketPeer> SoundServerFinder::find(std::uint32_t client_pid, Tier tier) const {
  try {
    return choose_sound_server(tier, peers(client_pid));
  } catch (const Error&) {
    return std::nullopt;
  } catch (const std::filesystem::filesystem_error&) {
    return std::nullopt;
  }
}

}  // namespace earshot::resolve

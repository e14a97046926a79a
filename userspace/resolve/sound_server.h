#pragma once
// Which sound server a client records through: the process at the other
// end of the client's connection to it (a Unix socket, pulse/native or
// pipewire-0), found from the kernel's socket table (sock_diag, in the
// client's network namespace) and /proc.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/vocabulary.h"

namespace earshot::resolve {

// A process at the other end of one of the client's Unix stream sockets.
struct SocketPeer {
  std::uint32_t pid = 0;
  std::string comm;  // /proc/PID/comm
  std::string path;  // the address the peer's socket is bound to ("" if none or unknown)
};

// The server a client of `tier` (libpulse or libpipewire) records
// through, among the client's peers: a peer named as the tier's servers are
// (pulseaudio or pipewire-pulse; pipewire), else one whose socket has the
// tier's usual name (.../pulse/native, or .../native; pipewire-N).
// Pure; nullopt when none fits.
std::optional<SocketPeer> choose_sound_server(Tier tier, const std::vector<SocketPeer>& peers);

// What the server is called when the client's peer cannot be found (the
// client exited first, or it reaches the server another way): the protocol,
// "pulse" or "pipewire".
std::string sound_server_protocol(Tier tier);

class SoundServerFinder {
 public:
  explicit SoundServerFinder(std::filesystem::path proc_root = "/proc");

  // The client's peers over Unix stream sockets, and which of them is the
  // server for its tier. Never throws: a process that is gone, or a table
  // that cannot be read, gives nullopt.
  std::optional<SocketPeer> find(std::uint32_t client_pid, Tier tier) const;
  std::vector<SocketPeer> peers(std::uint32_t client_pid) const;

 private:
  std::filesystem::path proc_root_;
};

}  // namespace earshot::resolve

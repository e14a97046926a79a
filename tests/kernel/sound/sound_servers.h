#pragma once
// Sound servers a test starts and stops: PulseAudio with a null sink (its
// monitor is the source), and PipeWire with WirePlumber and a null source;
// no ALSA device, no D-Bus. Each lives in its own temporary directory (its
// runtime directory, HOME and configuration), which goes with it; the
// servers are child processes, killed when the owner goes away and when
// the test process dies.
#include <optional>
#include <string>
#include <vector>

#include "process.h"
#include "temp_dir.h"

namespace earshot::test {

class PulseServer {
 public:
  // Throws earshot::Error (with the server's output) when it does not come up.
  PulseServer();
  // Why one cannot run here (no pulseaudio, parecord), or nullopt.
  static std::optional<std::string> unavailable_reason();

  // "NAME=VALUE" entries that make a client reach this server.
  const std::vector<std::string>& client_environment() const { return environment_; }
  pid_t pid() const { return server_->pid(); }
  static constexpr const char* kSource = "nul.monitor";
  std::string log() const { return server_->stderr_text(); }

 private:
  TempDir dir_;
  std::vector<std::string> environment_;
  std::optional<ChildProcess> server_;
};

class PipeWireServer {
 public:
  // Throws earshot::Error (with the servers' output) when it does not come up.
  PipeWireServer();
  // Why one cannot run here (no pipewire, wireplumber, pw-cli), or nullopt.
  static std::optional<std::string> unavailable_reason();

  const std::vector<std::string>& client_environment() const { return environment_; }
  pid_t pid() const { return server_->pid(); }
  static constexpr const char* kSource = "earshot-null-source";
  std::string log() const;

 private:
  TempDir dir_;
  std::vector<std::string> environment_;
  std::optional<ChildProcess> server_;
  std::optional<ChildProcess> session_manager_;
};

}  // namespace earshot::test

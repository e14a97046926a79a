#include "sound_servers.h"

#include <filesystem>
#include <thread>

#include "common/error.h"
#include "poll_until.h"

namespace earshot::test {
namespace {

using namespace std::chrono_literals;

bool runs(const std::vector<std::string>& argv) {
  try {
    return run_command(argv, {}, 10s).exit_code == 0;
  } catch (const Error&) {
    return false;
  }
}

std::optional<std::string> missing(const std::vector<const char*>& programs) {
  for (const char* program : programs) {
    if (!runs({"sh", "-c", std::string("command -v ") + program}))
      return std::string(program) + " not installed (scripts/setup.sh installs it)";
  }
  return std::nullopt;
}

// The client and server environment of a private runtime directory.
std::vector<std::string> private_environment(const TempDir& dir) {
  return {"HOME=" + dir.path(),
          "XDG_RUNTIME_DIR=" + dir.file("run"),
          "XDG_CONFIG_HOME=" + dir.file("config"),
          "XDG_STATE_HOME=" + dir.file("state"),
          "DBUS_SESSION_BUS_ADDRESS=disabled:",
          "DISPLAY="};
}

}  // namespace

std::optional<std::string> PulseServer::unavailable_reason() {
  return missing({"pulseaudio", "parecord"});
}

PulseServer::PulseServer() : dir_("earshot-pulse") {
  std::filesystem::create_directories(dir_.file("run"));
  environment_ = private_environment(dir_);
  // No ALSA, no D-Bus: a null sink (its monitor records silence) and the
  // native protocol on $XDG_RUNTIME_DIR/pulse/native.
  server_.emplace(
      std::vector<std::string>{"pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                               "--log-target=stderr", "-L", "module-null-sink sink_name=nul", "-L",
                               "module-native-protocol-unix auth-anonymous=1"},
      ChildOptions{.environment = environment_});
  const std::string socket = dir_.file("run/pulse/native");
  if (!poll_until([&] { return std::filesystem::exists(socket) || !server_->running(); }, 20s) ||
      !server_->running())
    throw Error("pulseaudio did not come up:\n" + server_->stderr_text());
  // The socket exists before the server serves: wait until a client gets through.
  if (!poll_until(
          [&] {
            return run_command({"pactl", "info"}, {.environment = environment_}, 5s).exit_code == 0;
          },
          20s))
    throw Error("pulseaudio does not answer pactl info:\n" + server_->stderr_text());
}

std::optional<std::string> PipeWireServer::unavailable_reason() {
  return missing({"pipewire", "wireplumber", "pw-cli", "pw-cat"});
}

PipeWireServer::PipeWireServer() : dir_("earshot-pipewire") {
  std::filesystem::create_directories(dir_.file("run"));
  environment_ = private_environment(dir_);
  // WirePlumber links streams to nodes; without D-Bus here, nothing of it
  // that needs D-Bus may load: the portal, ALSA's device reservation, the
  // device monitors, Bluetooth.
  dir_.write_file("config/wireplumber/main.lua.d/51-earshot-test.lua",
                  "default_access.properties[\"enable-flatpak-portal\"] = false\n"
                  "alsa_monitor.enabled = false\n"
                  "alsa_monitor.properties[\"alsa.reserve\"] = false\n"
                  "v4l2_monitor.enabled = false\n"
                  "libcamera_monitor.enabled = false\n");
  dir_.write_file("config/wireplumber/bluetooth.lua.d/51-earshot-test.lua",
                  "bluez_monitor.enabled = false\n");
  server_.emplace(std::vector<std::string>{"pipewire"}, ChildOptions{.environment = environment_});
  const std::string socket = dir_.file("run/pipewire-0");
  if (!poll_until([&] { return std::filesystem::exists(socket) || !server_->running(); }, 20s) ||
      !server_->running())
    throw Error("pipewire did not come up:\n" + server_->stderr_text());
  session_manager_.emplace(std::vector<std::string>{"wireplumber"},
                           ChildOptions{.environment = environment_});
  // A null source (a virtual microphone of silence), kept after pw-cli exits.
  check_command({"pw-cli", "create-node", "adapter",
                 std::string("{ factory.name=support.null-audio-sink node.name=") + kSource +
                     " media.class=Audio/Source/Virtual audio.position=[FL FR] "
                     "object.linger=true }"},
                {.environment = environment_}, 20s);
  // WirePlumber has made the source's ports once pw-link lists them.
  if (!poll_until(
          [&] {
            auto ports = run_command({"pw-link", "-o"}, {.environment = environment_}, 5s);
            return ports.out.find(std::string(kSource) + ":capture_FL") != std::string::npos ||
                   !session_manager_->running();
          },
          20s) ||
      !session_manager_->running())
    throw Error("the null source got no ports (is wireplumber running?):\n" + log());
}

std::string PipeWireServer::log() const {
  return "pipewire:\n" + server_->stderr_text() + "\nwireplumber:\n" +
         (session_manager_ ? session_manager_->stderr_text() : "");
}

}  // namespace earshot::test

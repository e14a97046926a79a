// Naming the sound server a client records through (resolve/sound_server.h).
#include "resolve/sound_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/unique_fd.h"

namespace earshot::resolve::sound_server_test {
namespace {

TEST(SoundServer, APeerNamedAsTheTiersServerIsChosen) {
  std::vector<SocketPeer> peers = {{10, "dbus-daemon", "/run/dbus/system_bus_socket"},
                                   {20, "pipewire-pulse", "/run/user/1000/pulse/native"},
                                   {30, "pipewire", "/run/user/1000/pipewire-0"}};
  auto pulse = choose_sound_server(Tier::libpulse, peers);
  ASSERT_TRUE(pulse);
  EXPECT_EQ(pulse->pid, 20u);
  auto pipewire = choose_sound_server(Tier::libpipewire, peers);
  ASSERT_TRUE(pipewire);
  EXPECT_EQ(pipewire->pid, 30u);
}

TEST(SoundServer, ElseAPeerWhoseSocketHasTheProtocolsName) {
  std::vector<SocketPeer> peers = {{10, "dbus-daemon", "/run/dbus/system_bus_socket"},
                                   {40, "my-server", "/tmp/x/pulse/native"},
                                   {50, "other", "/run/pipewire-1"}};
  EXPECT_EQ(choose_sound_server(Tier::libpulse, peers)->pid, 40u);
  EXPECT_EQ(choose_sound_server(Tier::libpipewire, peers)->pid, 50u);
}

TEST(SoundServer, NoneFits) {
  std::vector<SocketPeer> peers = {{10, "dbus-daemon", "/run/dbus/system_bus_socket"}};
  EXPECT_FALSE(choose_sound_server(Tier::libpulse, peers));
  EXPECT_FALSE(choose_sound_server(Tier::libpipewire, {}));
  EXPECT_EQ(sound_server_protocol(Tier::libpulse), "pulse");
  EXPECT_EQ(sound_server_protocol(Tier::libpipewire), "pipewire");
}

// This process listens on pulse/native in a temporary directory; a child
// connects and waits: the child's peer is this process, with that path.
TEST(SoundServer, FindsTheProcessAtTheOtherEndOfAClientsSocket) {
  char dir_template[] = "/tmp/earshot-sound-server-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::filesystem::path dir = dir_template;
  std::filesystem::create_directory(dir / "pulse");
  const std::string path = (dir / "pulse" / "native").string();
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int client = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) ::_exit(1);
    char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));

  SoundServerFinder finder;
  auto peers = finder.peers(static_cast<std::uint32_t>(child));
  auto server = finder.find(static_cast<std::uint32_t>(child), Tier::libpulse);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  std::filesystem::remove_all(dir);

  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(peers[0].path, path);
  ASSERT_TRUE(server);
  EXPECT_EQ(server->pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_FALSE(finder.find(static_cast<std::uint32_t>(child), Tier::libpipewire));
}

TEST(SoundServer, AProcessThatIsGoneHasNoServer) {
  SoundServerFinder finder;
  EXPECT_FALSE(finder.find(0x7ffffff0, Tier::libpulse));
}

}  // namespace
}  // namespace earshot::resolve::sound_server_test

#include "resolve/proc_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace earshot::resolve::proc_parse_test {
namespace {

// A real /proc/PID/stat line with the comm replaced; starttime (field 22) is 63118.
std::string stat_line(std::string_view comm, std::string_view starttime = "63118") {
  return "6319 (" + std::string(comm) +
         ") R 6316 6316 3909 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 " + std::string(starttime) +
         " 3133440 355 18446744073709551615 94605995102208 94605995122089 140731374808528 0 0 0 "
         "0 0 0 0 0 0 17 1 0 0 0 0 0 94605995138096 94605995139712 94606981537792 "
         "140731374815872 140731374815892 140731374815892 140731374817259 0\n";
}

TEST(ParseStat, PlainLine) {
  auto stat = parse_stat(stat_line("cat"));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, 6319u);
  EXPECT_EQ(stat->comm, "cat");
  EXPECT_EQ(stat->state, 'R');
  EXPECT_EQ(stat->start_ticks, 63118u);
}

TEST(ParseStat, HostileComms) {
  // Each comm is what a process can set with prctl(PR_SET_NAME); the kernel
  // writes it into stat unescaped.
  for (std::string comm : {"a b c", "x) S 1 2 3 (y", ")", "(", "()", "))((", "two\nlines",
                           "tab\there", "", "日本語日本", "🎤 mic)"}) {
    SCOPED_TRACE(comm);
    auto stat = parse_stat(stat_line(comm, "777"));
    ASSERT_TRUE(stat);
    EXPECT_EQ(stat->comm, comm);
    EXPECT_EQ(stat->state, 'R');
    EXPECT_EQ(stat->start_ticks, 777u);
  }
}

TEST(ParseStat, TruncatedUtf8CommKeptAsRawBytes) {
  // TASK_COMM_LEN cuts at 15 bytes, possibly inside a character: "ab" + 4.33 CJK.
  std::string comm = "ab\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE6\x97\xA5\xE6";
  ASSERT_EQ(comm.size(), 15u);
  auto stat = parse_stat(stat_line(comm));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->comm, comm);
}

TEST(ParseStat, RejectsMalformed) {
  EXPECT_FALSE(parse_stat(""));
  EXPECT_FALSE(parse_stat("6319 cat R 1 2 3"));
  EXPECT_FALSE(parse_stat("6319 (cat) R 1 2 3\n"));              // too few fields
  EXPECT_FALSE(parse_stat("abc" + stat_line("cat").substr(4)));  // pid not a number
  EXPECT_FALSE(parse_stat(stat_line("cat", "12a")));
  EXPECT_FALSE(parse_stat(stat_line("cat", "-5")));
  EXPECT_FALSE(parse_stat("6319 )cat( R 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0\n"));
}

TEST(StartTicks, IntegerDivisionLikeTheKernel) {
  // 100 Hz: one tick is 10 ms.
  EXPECT_EQ(start_ticks_from_ns(0, 100), 0u);
  EXPECT_EQ(start_ticks_from_ns(9'999'999, 100), 0u);
  EXPECT_EQ(start_ticks_from_ns(10'000'000, 100), 1u);
  EXPECT_EQ(start_ticks_from_ns(631'189'999'999, 100), 63118u);
  EXPECT_EQ(start_ticks_from_ns(631'189'999'999, 1000), 631189u);
}

TEST(ExeBasename, StripsDirectoryAndDeleted) {
  EXPECT_EQ(exe_basename("/usr/sbin/avahi-daemon"), "avahi-daemon");
  EXPECT_EQ(exe_basename("/usr/bin/python3.11 (deleted)"), "python3.11");
  EXPECT_EQ(exe_basename("/memfd:payload (deleted)"), "memfd:payload");
  EXPECT_EQ(exe_basename("/opt/my app/bin/voice assistant"), "voice assistant");
  EXPECT_EQ(exe_basename("relative"), "relative");
  EXPECT_EQ(exe_basename(""), "");
  // Only a trailing marker is the kernel's; one inside the name is the name.
  EXPECT_EQ(exe_basename("/bin/x (deleted) y"), "x (deleted) y");
}

TEST(UnitFromCgroupPath, SystemdUnits) {
  EXPECT_EQ(unit_from_cgroup_path("/system.slice/avahi-daemon.service"), "avahi-daemon.service");
  EXPECT_EQ(unit_from_cgroup_path(
                "/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo@123.service"),
            "app-foo@123.service");
  EXPECT_EQ(unit_from_cgroup_path("/user.slice/user-1000.slice/session-3.scope"),
            "session-3.scope");
  EXPECT_EQ(unit_from_cgroup_path("/init.scope"), "init.scope");
  EXPECT_EQ(unit_from_cgroup_path("/system.slice/foo.service/worker"), "foo.service");
  EXPECT_EQ(unit_from_cgroup_path("/"), "");
  EXPECT_EQ(unit_from_cgroup_path(""), "");
  EXPECT_EQ(unit_from_cgroup_path("/user.slice"), "");
  EXPECT_EQ(unit_from_cgroup_path("/custom/group"), "");
}

const std::string kId = "4f1c2d3e4a5b6c7d8e9f00112233445566778899aabbccddeeff001122334455";

TEST(UnitFromCgroupPath, Containers) {
  EXPECT_EQ(unit_from_cgroup_path("/system.slice/docker-" + kId + ".scope"), "docker:4f1c2d3e4a5b");
  EXPECT_EQ(unit_from_cgroup_path("/docker/" + kId), "docker:4f1c2d3e4a5b");
  EXPECT_EQ(unit_from_cgroup_path("/machine.slice/libpod-" + kId + ".scope"),
            "podman:4f1c2d3e4a5b");
  EXPECT_EQ(unit_from_cgroup_path("/user.slice/user-1000.slice/user@1000.service/user.slice/"
                                  "libpod-" +
                                  kId + ".scope/container"),
            "podman:4f1c2d3e4a5b");
  EXPECT_EQ(unit_from_cgroup_path("/kubepods.slice/kubepods-burstable.slice/"
                                  "kubepods-burstable-pod1234_5678.slice/cri-containerd-" +
                                  kId + ".scope"),
            "containerd:4f1c2d3e4a5b");
  EXPECT_EQ(unit_from_cgroup_path("/kubepods/besteffort/pod12345678-aaaa/" + kId),
            "kubepods:4f1c2d3e4a5b");
  EXPECT_EQ(unit_from_cgroup_path("/kubepods.slice/kubepods-pod1.slice/crio-" + kId + ".scope"),
            "crio:4f1c2d3e4a5b");
  // systemd inside a container: the container is the identity on this host.
  EXPECT_EQ(unit_from_cgroup_path("/system.slice/docker-" + kId + ".scope/system.slice/x.service"),
            "docker:4f1c2d3e4a5b");
  // Not an id: a unit that merely starts with "docker-".
  EXPECT_EQ(unit_from_cgroup_path("/system.slice/docker-compose@web.service"),
            "docker-compose@web.service");
  EXPECT_EQ(unit_from_cgroup_path("/system.slice/docker-xyz.scope"), "docker-xyz.scope");
}

TEST(UnitFromCgroup, CgroupV2) {
  EXPECT_EQ(unit_from_cgroup("0::/system.slice/avahi-daemon.service\n"), "avahi-daemon.service");
  EXPECT_EQ(unit_from_cgroup("0::/\n"), "");
  EXPECT_EQ(unit_from_cgroup(""), "");
  EXPECT_EQ(unit_from_cgroup("garbage\n"), "");
}

TEST(UnitFromCgroup, HybridUsesNameSystemdWhenV2IsEmpty) {
  // A hybrid host with systemd's hierarchy on v1 and an unused v2 tree.
  EXPECT_EQ(unit_from_cgroup("12:memory:/system.slice/other.service\n"
                             "1:name=systemd:/system.slice/pulseaudio.service\n"
                             "0::/\n"),
            "pulseaudio.service");
  // When both name it, they agree; v2 is taken.
  EXPECT_EQ(unit_from_cgroup("1:name=systemd:/system.slice/a.service\n"
                             "0::/system.slice/a.service\n"),
            "a.service");
  // Other v1 controllers never decide.
  EXPECT_EQ(unit_from_cgroup("4:memory:/process_api/8a940f4b8b11588de16b2fa74040876c\n"
                             "9:name=systemd:/\n0::/\n"),
            "");
}

TEST(UnitFromCgroup, PathWithColon) {
  EXPECT_EQ(unit_from_cgroup("0::/system.slice/weird:name.service\n"), "weird:name.service");
}

TEST(ProcessName, ExeUnlessCommIsALinkToIt) {
  EXPECT_EQ(process_name("systemd-resolved", "systemd-resolve", false), "systemd-resolved");
  EXPECT_EQ(process_name("avahi-daemon", "avahi-daemon: r", false), "avahi-daemon");
  // A process that renamed itself does not get to pick its label.
  EXPECT_EQ(process_name("evil", "pulseaudio", false), "evil");
}

TEST(ProcessName, CommWhenRunThroughALink) {
  EXPECT_EQ(process_name("aplay", "arecord", true), "arecord");
  EXPECT_EQ(process_name("busybox", "wget", true), "wget");
}

TEST(ProcessName, CommWhenExeUnreadable) {
  EXPECT_EQ(process_name("", "kworker/0:1", false), "kworker/0:1");
}

}  // namespace
}  // namespace earshot::resolve::proc_parse_test

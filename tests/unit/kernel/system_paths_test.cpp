#include "kernel/system_paths.h"

#include <gtest/gtest.h>

namespace earshot::kernel::system_paths_test {
namespace {

TEST(Cgroup2Mount, HybridHostHasItUnderUnified) {
  const char* mountinfo =
      "25 30 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
      "31 25 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
      "32 31 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
      "33 31 0:28 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,name=systemd\n";
  auto found = find_cgroup2_mount(mountinfo);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, "/sys/fs/cgroup/unified");
}

TEST(Cgroup2Mount, UnifiedHostAndNone) {
  EXPECT_EQ(*find_cgroup2_mount("35 24 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"),
            "/sys/fs/cgroup");
  EXPECT_FALSE(
      find_cgroup2_mount("33 31 0:28 / /sys/fs/cgroup/cpu rw shared:11 - cgroup cgroup rw,cpu\n"));
  EXPECT_FALSE(find_cgroup2_mount(""));
}

}  // namespace
}  // namespace earshot::kernel::system_paths_test

#include "kernel/btf_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace earshot::kernel::btf_source_test {
namespace {

using ::testing::HasSubstr;

TEST(BtfSource, ConfiguredFileWinsOverTheKernels) {
  BtfSource btf = describe_btf(true, "/etc/earshot/vmlinux.btf");
  EXPECT_TRUE(btf.usable);
  EXPECT_EQ(btf.description, "kernel.btf_file /etc/earshot/vmlinux.btf");
}

TEST(BtfSource, KernelsOwn) {
  BtfSource btf = describe_btf(true, {});
  EXPECT_TRUE(btf.usable);
  EXPECT_THAT(btf.description, HasSubstr("/sys/kernel/btf/vmlinux"));
}

TEST(BtfSource, NeitherSaysExactlyWhatIsMissing) {
  BtfSource btf = describe_btf(false, {});
  EXPECT_FALSE(btf.usable);
  EXPECT_THAT(btf.description, HasSubstr("/sys/kernel/btf/vmlinux is missing"));
  EXPECT_THAT(btf.description, HasSubstr("kernel.btf_file is not set"));
}

}  // namespace
}  // namespace earshot::kernel::btf_source_test

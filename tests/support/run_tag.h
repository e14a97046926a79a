#pragma once
// A short tag for this test process (its pid in base 36), for the names of
// the programs a test starts. Capture detection is system-wide, so a
// concurrent run of the same test (another build directory) is seen by this
// run's daemon too; tagged names keep the two runs' processes apart.
#include <unistd.h>

#include <string>

namespace earshot::test {

inline std::string run_tag() {
  std::string tag;
  for (auto pid = static_cast<unsigned>(::getpid()); pid > 0; pid /= 36) {
    tag.insert(tag.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[pid % 36]);
  }
  return tag;
}

}  // namespace earshot::test

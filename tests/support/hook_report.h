#pragma once
// The "hooks:" table `earshot --check-config` prints: one line a hook,
// "  NAME  attached|NOT attached  DETAIL". A line of another form fails the
// test.
#include <map>
#include <string>

namespace earshot::test {

struct HookLine {
  bool attached = false;
  std::string detail;
};

std::map<std::string, HookLine> printed_hooks(const std::string& check_config_output);

}  // namespace earshot::test

#include "hook_report.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace earshot::test {

std::map<std::string, HookLine> printed_hooks(const std::string& out) {
  std::map<std::string, HookLine> hooks;
  std::istringstream lines(out);
  static const std::regex hook_line(R"(^\s+(\S+)\s+(attached|NOT attached)\s*(.*)$)");
  bool in_hooks = false;
  for (std::string line; std::getline(lines, line);) {
    if (line == "hooks:") {
      in_hooks = true;
      continue;
    }
    if (!in_hooks) continue;
    if (line.empty() || line[0] != ' ') break;
    std::smatch m;
    if (std::regex_match(line, m, hook_line))
      hooks[m[1]] = {m[2] == "attached", m[3]};
    else
      ADD_FAILURE() << "hook line says neither attached nor NOT attached: '" << line << "'";
  }
  return hooks;
}

}  // namespace earshot::test

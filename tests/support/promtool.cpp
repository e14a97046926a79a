#include "promtool.h"

#include <unistd.h>

#include "temp_dir.h"

namespace earshot::test {

std::string promtool_path() {
  return std::string(EARSHOT_PROMETHEUS_DIR) + "/promtool";
}

std::optional<std::string> promtool_unavailable_reason() {
  const std::string path = promtool_path();
  if (::access(path.c_str(), X_OK) == 0) return std::nullopt;
  return "no promtool at " + path + " (scripts/setup.sh unpacks it there)";
}

CommandResult promtool_check_metrics(std::string_view page) {
  TempDir dir("earshot-promtool");
  const std::string file = dir.write_file("metrics.txt", page);
  return run_command({"sh", "-c", "exec \"$0\" check metrics < \"$1\"", promtool_path(), file});
}

}  // namespace earshot::test

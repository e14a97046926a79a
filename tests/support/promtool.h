#pragma once
// promtool, from the Prometheus that scripts/setup.sh unpacks (not
// installs) into EARSHOT_PROMETHEUS_DIR: the unit tests check exposition
// pages with it, the e2e lane the daemon's /metrics and the alert rules.
#include <optional>
#include <string>
#include <string_view>

#include "process.h"

namespace earshot::test {

// EARSHOT_PROMETHEUS_DIR/promtool.
std::string promtool_path();
// Why promtool cannot run here (not unpacked), or nullopt.
std::optional<std::string> promtool_unavailable_reason();
// `promtool check metrics` on an exposition page. Exit code 0 and nothing
// on out or err is a page promtool has nothing to say about.
CommandResult promtool_check_metrics(std::string_view page);

}  // namespace earshot::test

#pragma once
// earshot-bench report: the closing table of scripts/bench.sh, from the raw
// measurements the script wrote, one a line:
//   KIND ROUND FIGURE VALUE    e.g. "monitored 3 udp_pps 215542"
// KIND is a round's kind (floor, monitored, microphone, unmonitored; ROUND
// its pair) or bpf (ROUND: the sample), latency or host. A figure measured
// several times a round is averaged (getppid_ns: its median; udp_a_pps with
// udp_c_pps and tcp_a_mbps with tcp_c_mbps: the median of the slices' A/C
// ratios); then each measured round is compared with the unmonitored rounds
// next to it (stats::neighbour_ratios). Lines from '#' are notes, printed
// above the table.
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stats.h"

namespace earshot::bench {

// kind -> round -> figure -> values in the order measured.
using RoundFigures = std::map<std::string, std::vector<double>>;
struct Measurements {
  std::vector<std::string> notes;
  std::map<std::string, std::map<int, RoundFigures>> kinds;
};
// Throws earshot::Error naming the line of a malformed measurement.
Measurements parse_measurements(std::istream& in);

struct Row {
  std::string label;  // two leading spaces: a detail of the row above
  std::optional<stats::Summary> summary;
  std::optional<stats::Target> target;
  int decimals = 3;
};
std::vector<Row> report_rows(const Measurements& measurements);

// "yes", "no", "no data", or "-" without a target.
std::string verdict(const Row& row);

void print_table(std::ostream& out, const Measurements& measurements, const std::vector<Row>& rows);
// One Markdown table: figure, median, min-max, target, met.
void print_markdown(std::ostream& out, const std::vector<Row>& rows);

}  // namespace earshot::bench

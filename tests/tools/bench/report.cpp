#include "report.h"

#include <fmt/format.h>

#include <cstdlib>
#include <istream>
#include <ostream>
#include <set>
#include <sstream>

#include "common/error.h"

namespace earshot::bench {

namespace {

using stats::Target;
constexpr auto at_least = Target::Op::at_least;
constexpr auto at_most = Target::Op::at_most;

// One value a round of `figures` for `figure`.
std::optional<double> round_value(const RoundFigures& figures, const std::string& figure) {
  auto values = [&](const std::string& name) {
    auto it = figures.find(name);
    return it == figures.end() ? std::vector<double>{} : it->second;
  };
  if (figure == "udp_ac") return stats::paired_ratio(values("udp_a_pps"), values("udp_c_pps"));
  if (figure == "tcp_ac") return stats::paired_ratio(values("tcp_a_mbps"), values("tcp_c_mbps"));
  // The median of a few runs: a run the scheduler interrupted is an outlier.
  if (figure == "getppid_ns") return stats::median(values(figure));
  return stats::mean(values(figure));
}

class Builder {
 public:
  explicit Builder(const Measurements& m) : m_(m) {}

  std::map<int, double> per_round(const std::string& kind, const std::string& figure) const {
    std::map<int, double> out;
    auto it = m_.kinds.find(kind);
    if (it == m_.kinds.end()) return out;
    for (const auto& [round, figures] : it->second)
      if (auto value = round_value(figures, figure)) out[round] = *value;
    return out;
  }

  // The rounds of `kind` against the unmonitored rounds next to them.
  void ratio(std::string label, const std::string& kind, const std::string& figure,
             std::optional<Target> target = std::nullopt) {
    add(std::move(label),
        stats::neighbour_ratios(per_round(kind, figure), per_round("unmonitored", figure)), target,
        3);
  }

  // One value a round.
  void rounds(std::string label, const std::string& kind, const std::string& figure, int decimals,
              std::optional<Target> target = std::nullopt) {
    std::vector<double> values;
    for (const auto& [round, value] : per_round(kind, figure)) values.push_back(value);
    add(std::move(label), values, target, decimals);
  }

  // Every value of `figure` in rounds of `kind`.
  void samples(std::string label, const std::string& kind, const std::string& figure, int decimals,
               std::optional<Target> target = std::nullopt) {
    std::vector<double> values;
    for (const auto& [round, figures] : rounds_of(kind))
      if (auto it = figures.find(figure); it != figures.end())
        values.insert(values.end(), it->second.begin(), it->second.end());
    add(std::move(label), values, target, decimals);
  }

  // `figure` minus `less` in each round of `kind` that has both.
  void difference(std::string label, const std::string& kind, const std::string& figure,
                  const std::string& less, int decimals) {
    auto minuend = per_round(kind, figure);
    std::vector<double> values;
    for (const auto& [round, value] : per_round(kind, less))
      if (auto it = minuend.find(round); it != minuend.end()) values.push_back(it->second - value);
    add(std::move(label), values, std::nullopt, decimals);
  }

  // Figures of `kind` whose names start with `prefix`, but for `except`.
  std::set<std::string> figures_with(const std::string& kind, const std::string& prefix,
                                     const std::string& except) const {
    std::set<std::string> names;
    for (const auto& [round, figures] : rounds_of(kind))
      for (const auto& [name, values] : figures)
        if (name.rfind(prefix, 0) == 0 && name != except) names.insert(name);
    return names;
  }

  std::vector<Row> take() { return std::move(rows_); }

 private:
  const std::map<int, RoundFigures>& rounds_of(const std::string& kind) const {
    static const std::map<int, RoundFigures> none;
    auto it = m_.kinds.find(kind);
    return it == m_.kinds.end() ? none : it->second;
  }

  void add(std::string label, const std::vector<double>& values, std::optional<Target> target,
           int decimals) {
    rows_.push_back(Row{std::move(label), stats::summarize(values), target, decimals});
  }

  const Measurements& m_;
  std::vector<Row> rows_;
};

std::string number(double value, int decimals) {
  return fmt::format("{:.{}f}", value, decimals);
}

}  // namespace

Measurements parse_measurements(std::istream& in) {
  Measurements m;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      auto text = line.find_first_not_of("# ");
      m.notes.push_back(text == std::string::npos ? "" : line.substr(text));
      continue;
    }
    std::istringstream fields(line);
    std::string kind, round_text, figure, value_text, extra;
    if (!(fields >> kind >> round_text >> figure >> value_text) || (fields >> extra))
      throw Error(
          fmt::format("measurements line {}: not \"KIND ROUND FIGURE VALUE\": {}", number, line));
    char* end = nullptr;
    long round = std::strtol(round_text.c_str(), &end, 10);
    if (*end != '\0') throw Error(fmt::format("measurements line {}: round not a number", number));
    double value = std::strtod(value_text.c_str(), &end);
    if (*end != '\0') throw Error(fmt::format("measurements line {}: value not a number", number));
    m.kinds[kind][static_cast<int>(round)][figure].push_back(value);
  }
  return m;
}

std::vector<Row> report_rows(const Measurements& m) {
  Builder b(m);
  b.ratio("TCP throughput, monitored/not", "monitored", "tcp_mbps", Target{at_least, 0.97});
  b.rounds("  TCP Mbit/s, monitored", "monitored", "tcp_mbps", 0);
  b.rounds("  TCP Mbit/s, unmonitored", "unmonitored", "tcp_mbps", 0);
  b.ratio("TCP A/C, monitored/not (paired)", "monitored", "tcp_ac");
  b.rounds("  A/C TCP rate ratio, monitored", "monitored", "tcp_ac", 3);
  b.rounds("  A/C TCP rate ratio, unmonitored", "unmonitored", "tcp_ac", 3);
  b.ratio("TCP throughput, microphone watched/not", "microphone", "tcp_mbps");
  b.ratio("UDP 64 B packets/s, monitored/not", "monitored", "udp_pps", Target{at_least, 0.95});
  b.rounds("  UDP packets/s, monitored", "monitored", "udp_pps", 0);
  b.rounds("  UDP packets/s, unmonitored", "unmonitored", "udp_pps", 0);
  b.ratio("UDP 64 B, microphone watched/not", "microphone", "udp_pps", Target{at_least, 0.95});
  b.rounds("  UDP packets/s, microphone watched", "microphone", "udp_pps", 0);
  b.ratio("UDP 64 B, empty netfilter program/not", "floor", "udp_pps");
  b.rounds("  UDP packets/s, empty netfilter program", "floor", "udp_pps", 0);
  b.ratio("UDP 64 B A/C, monitored/not (paired)", "monitored", "udp_ac");
  b.rounds("  A/C UDP rate ratio, monitored", "monitored", "udp_ac", 3);
  b.rounds("  A/C UDP rate ratio, unmonitored", "unmonitored", "udp_ac", 3);
  b.ratio("UDP 64 B A/C, microphone/not (paired)", "microphone", "udp_ac");
  b.ratio("UDP 64 B A/C, empty program/not (paired)", "floor", "udp_ac");
  b.ratio("UDP 64 B into the monitored ns, mon./not", "monitored", "udp_in_pps");
  b.rounds("  UDP packets/s into it, monitored", "monitored", "udp_in_pps", 0);
  b.rounds("  UDP packets/s into it, unmonitored", "unmonitored", "udp_in_pps", 0);
  b.ratio("UDP 64 B sendto(), unconnected, mon./not", "monitored", "sendto_pps");
  b.ratio("UDP 64 B sendmmsg packets/s, mon./not", "monitored", "sendmmsg_pps");
  b.ratio("getppid() ns, monitored/not", "monitored", "getppid_ns");
  b.rounds("  getppid() ns, monitored", "monitored", "getppid_ns", 1);
  b.rounds("  getppid() ns, unmonitored", "unmonitored", "getppid_ns", 1);
  b.ratio("getppid() ns, microphone watched/not", "microphone", "getppid_ns");
  b.rounds("  getppid() ns, microphone watched", "microphone", "getppid_ns", 1);

  const std::string netfilter = "ns_earshot_nf_local_out4";
  b.samples("netfilter program, ns/packet", "bpf", netfilter, 1, Target{at_most, 100});
  b.samples("  floor: empty netfilter program, ns", "bpf", "floor_ns", 1);
  b.difference("  netfilter above that floor, ns", "bpf", netfilter, "floor_ns", 1);
  b.samples("  netfilter, unconnected sendto(), ns", "bpf", "unconnected_" + netfilter, 1);
  b.samples("  sendmsg4 hook, ns/sendto()", "bpf", "unconnected_ns_earshot_sendmsg4", 1);
  b.samples("cgroup_skb tier (netfilter off), ns/packet", "bpf", "cgroup_ns_earshot_cgroup_egress",
            1);
  // What a socket receives (the verdicts' other direction), B flooding A.
  const std::string local_in = "in_ns_earshot_nf_local_in4";
  b.samples("netfilter LOCAL_IN program, ns/packet", "bpf", local_in, 1);
  b.difference("  LOCAL_IN above the (LOCAL_OUT) floor, ns", "bpf", local_in, "floor_ns", 1);
  b.samples("cgroup_skb ingress (netfilter off), ns/packet", "bpf",
            "cgroup_in_ns_earshot_cgroup_ingress", 1);
  for (const auto& figure : b.figures_with("bpf", "ns_", netfilter))
    b.samples("  " + figure.substr(3) + ", ns/run", "bpf", figure, 1);

  b.rounds("daemon RSS idle, MiB", "monitored", "idle_rss_mib", 1, Target{at_most, 20});
  b.rounds("daemon RSS under UDP load, MiB", "monitored", "load_rss_mib", 1, Target{at_most, 20});
  b.rounds("daemon CPU idle, % of a core", "monitored", "idle_cpu_percent", 3);
  b.rounds("daemon CPU under UDP load, % of a core", "monitored", "load_cpu_percent", 3,
           Target{at_most, 2});
  b.rounds("  that load, packets/s", "monitored", "sendmmsg_pps", 0, Target{at_least, 100000});
  b.samples("capture open -> JSON event, ms", "latency", "open_ms", 3, Target{at_most, 100});
  // scripts/bench.sh runs the daemon with a 1 s harvest interval.
  b.samples("packet -> /metrics, ms (harvest 1 s)", "latency", "metrics_ms", 1,
            Target{at_most, 1000});
  b.samples("host steal during the rounds, % of CPU", "host", "steal_percent", 2);
  return b.take();
}

std::string verdict(const Row& row) {
  if (!row.target) return "-";
  if (!row.summary) return "no data";
  return stats::meets(row.summary->median, *row.target) ? "yes" : "no";
}

void print_table(std::ostream& out, const Measurements& m, const std::vector<Row>& rows) {
  for (const auto& note : m.notes) out << note << '\n';
  auto line = [&](const std::string& label, const std::string& median, const std::string& min,
                  const std::string& max, const std::string& n, const std::string& target,
                  const std::string& met) {
    out << fmt::format("{:<42} {:>12} {:>12} {:>12} {:>4}  {:<14} {}\n", label, median, min, max, n,
                       target, met);
  };
  line("figure", "median", "min", "max", "n", "target", "met");
  for (const auto& row : rows) {
    std::string target = row.target ? stats::describe(*row.target) : "";
    if (!row.summary) {
      line(row.label, "-", "-", "-", "0", target, verdict(row));
      continue;
    }
    const auto& s = *row.summary;
    line(row.label, number(s.median, row.decimals), number(s.min, row.decimals),
         number(s.max, row.decimals), std::to_string(s.n), target, verdict(row));
  }
}

void print_markdown(std::ostream& out, const std::vector<Row>& rows) {
  out << "| figure | median | min–max | target | met |\n| --- | --: | --: | --- | --- |\n";
  for (const auto& row : rows) {
    std::string label = row.label;
    if (label.rfind("  ", 0) == 0) label = "&nbsp;&nbsp;" + label.substr(2);
    std::string median = "-", range = "-";
    if (row.summary) {
      median = number(row.summary->median, row.decimals);
      range = number(row.summary->min, row.decimals) + "–" + number(row.summary->max, row.decimals);
    }
    std::string met = verdict(row);
    if (met == "no") met = "**no**";
    out << fmt::format("| {} | {} | {} | {} | {} |\n", label, median, range,
                       row.target ? stats::describe(*row.target) : "-", met);
  }
}

}  // namespace earshot::bench

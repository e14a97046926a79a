// earshot-bench SUBCOMMAND ...: load, probes and the report for scripts/bench.sh;
// see bench.h and report.h.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "bench.h"
#include "common/error.h"
#include "report.h"

namespace bench = earshot::bench;

void bench::say(const std::string& line) {
  std::cout << line << std::endl;
}

int main(int argc, char** argv) {
  CLI::App app{"earshot-bench: load, probes and the report for scripts/bench.sh"};
  app.require_subcommand(1);

  bench::FloodOptions flood;
  bool unconnected = false;
  auto* flood_cmd = app.add_subcommand("udp-flood", "send UDP datagrams as fast as possible");
  flood_cmd->add_option("ADDR", flood.address)->required();
  flood_cmd->add_option("PORT", flood.port)->required();
  flood_cmd->add_option("--seconds", flood.seconds)->capture_default_str();
  flood_cmd->add_option("--size", flood.size, "payload bytes")->capture_default_str();
  flood_cmd->add_option("--batch", flood.batch, "datagrams per sendmmsg() call")
      ->capture_default_str();
  flood_cmd->add_flag("--unconnected", unconnected,
                      "sendto() each datagram instead of connect()+send()");

  std::uint16_t sink_port = 0;
  double sink_seconds = 10;
  int sink_idle_ms = 500;
  auto* sink_cmd = app.add_subcommand("udp-sink", "count datagrams until idle or --seconds");
  sink_cmd->add_option("PORT", sink_port)->required();
  sink_cmd->add_option("--seconds", sink_seconds)->capture_default_str();
  sink_cmd->add_option("--idle-ms", sink_idle_ms)->capture_default_str();

  std::string device, events_file;
  int count = 10, gap_ms = 200, timeout_ms = 2000;
  auto* open_cmd =
      app.add_subcommand("open-latency", "open DEVICE, time until EVENTS gets capture_open");
  open_cmd->add_option("DEVICE", device)->required();
  open_cmd->add_option("EVENTS", events_file)->required();
  open_cmd->add_option("--count", count)->capture_default_str();
  open_cmd->add_option("--gap-ms", gap_ms)->capture_default_str();
  open_cmd->add_option("--timeout-ms", timeout_ms)->capture_default_str();

  bench::MetricsLatencyOptions ml;
  int ml_gap_ms = 1300, ml_timeout_ms = 5000;
  auto* metrics_cmd =
      app.add_subcommand("metrics-latency", "send bursts, time until /metrics counts them");
  metrics_cmd->add_option("ADDR", ml.address)->required();
  metrics_cmd->add_option("PORT", ml.port)->required();
  metrics_cmd->add_option("--metrics-port", ml.metrics_port)->required();
  metrics_cmd->add_option("--process", ml.process, "process label of this program")->required();
  metrics_cmd->add_option("--netns", ml.netns, "send from this network namespace (path)");
  metrics_cmd->add_option("--packets", ml.packets)->capture_default_str();
  metrics_cmd->add_option("--bursts", ml.bursts)->capture_default_str();
  metrics_cmd->add_option("--gap-ms", ml_gap_ms, "largest random pause before a burst")
      ->capture_default_str();
  metrics_cmd->add_option("--timeout-ms", ml_timeout_ms)->capture_default_str();

  double floor_seconds = 60;
  auto* floor_cmd = app.add_subcommand(
      "nf-floor", "hold a near-empty netfilter program here; print its mean ns a run");
  floor_cmd->add_option("--seconds", floor_seconds, "longest time to hold it (SIGTERM ends it)")
      ->capture_default_str();

  long syscall_count = 2'000'000;
  auto* syscalls_cmd =
      app.add_subcommand("null-syscalls", "time getppid() calls: the cost every system call pays");
  syscalls_cmd->add_option("--count", syscall_count)->capture_default_str();

  bench::SnapshotOptions snap;
  auto* snapshot_cmd = app.add_subcommand(
      "snapshot", "print the readings `delta` compares (CPU time, RSS, steal, BPF run counters)");
  snapshot_cmd->add_flag("--host", snap.host, "the host's CPU and steal ticks");
  snapshot_cmd->add_option("--pid", snap.pid, "this process's CPU time and RSS");
  snapshot_cmd->add_option("--metrics-port", snap.metrics_port,
                           "earshot's BPF run counters from /metrics on 127.0.0.1");

  std::string before_file, after_file;
  auto* delta_cmd =
      app.add_subcommand("delta", "print \"figure value\" lines: what changed between snapshots");
  delta_cmd->add_option("BEFORE", before_file)->required()->check(CLI::ExistingFile);
  delta_cmd->add_option("AFTER", after_file)->required()->check(CLI::ExistingFile);

  std::string measurements_file;
  bool markdown = false;
  auto* report_cmd = app.add_subcommand(
      "report", "medians, ratios and the table against the targets, from bench.sh's measurements");
  report_cmd->add_option("MEASUREMENTS", measurements_file, "lines of KIND ROUND FIGURE VALUE")
      ->required()
      ->check(CLI::ExistingFile);
  report_cmd->add_flag("--markdown", markdown, "one Markdown table, without the notes");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*flood_cmd) {
      flood.connected = !unconnected;
      return bench::udp_flood(flood);
    }
    if (*sink_cmd)
      return bench::udp_sink(sink_port, sink_seconds, std::chrono::milliseconds(sink_idle_ms));
    if (*open_cmd)
      return bench::open_latency(device, events_file, count, std::chrono::milliseconds(gap_ms),
                                 std::chrono::milliseconds(timeout_ms));
    if (*metrics_cmd) {
      ml.gap = std::chrono::milliseconds(ml_gap_ms);
      ml.timeout = std::chrono::milliseconds(ml_timeout_ms);
      return bench::metrics_latency(ml);
    }
    if (*floor_cmd) return bench::nf_floor(floor_seconds);
    if (*syscalls_cmd) return bench::null_syscalls(syscall_count);
    if (*snapshot_cmd) return bench::snapshot(snap);
    if (*delta_cmd) return bench::delta(before_file, after_file);
    if (*report_cmd) {
      std::ifstream in(measurements_file);
      auto measurements = bench::parse_measurements(in);
      auto rows = bench::report_rows(measurements);
      if (markdown)
        bench::print_markdown(std::cout, rows);
      else
        bench::print_table(std::cout, measurements, rows);
      return 0;
    }
  } catch (const earshot::Error& error) {
    std::cerr << "earshot-bench: " << error.what() << std::endl;
    return 1;
  }
  return 1;
}

#pragma once
// earshot-bench: the load and the probes scripts/bench.sh measures with, and
// the report of what it measured (report.h). Each measuring subcommand
// prints key=value lines on stdout; the script takes the values from them.
#include <chrono>
#include <cstdint>
#include <string>

namespace earshot::bench {

struct FloodOptions {
  std::string address;  // IPv4 literal
  std::uint16_t port = 0;
  double seconds = 3;
  std::size_t size = 64;  // UDP payload bytes
  bool connected = true;  // connect() once, then send(); else sendto() each time
  unsigned batch = 1;     // > 1: sendmmsg() of this many datagrams a call (connected only)
};
// Sends as fast as one thread can for `seconds`; prints sent=, seconds=, pps=.
int udp_flood(const FloodOptions& options);

// Counts datagrams until `seconds` pass, or `idle` passes without one after
// the first; prints received=.
int udp_sink(std::uint16_t port, double seconds, std::chrono::milliseconds idle);

// Opens `device` `count` times; each time waits for a capture_open line to be
// appended to `events_file` and prints sample_ms= (open() to line seen).
int open_latency(const std::string& device, const std::string& events_file, int count,
                 std::chrono::milliseconds gap, std::chrono::milliseconds timeout);

struct MetricsLatencyOptions {
  std::string netns;  // path of the network namespace to send from ("" = this one)
  std::string address;
  std::uint16_t port = 0;
  std::uint16_t metrics_port = 0;  // earshot's /metrics on 127.0.0.1
  std::string process;             // process label the daemon gives this program
  int packets = 100;               // a burst
  int bursts = 5;
  std::chrono::milliseconds gap{1300};
  std::chrono::milliseconds timeout{5000};
};
// Sends bursts of UDP datagrams; after each, polls /metrics until
// earshot_egress_packets_total{process=...} grew by the burst; prints sample_ms=.
int metrics_latency(const MetricsLatencyOptions& options);

// Attaches a near-empty netfilter program at LOCAL_OUT (IPv4) of the current
// network namespace until `seconds` pass or SIGTERM; prints ready, then
// runs=, run_time_ns= and floor_ns= (its mean ns a run, from bpf_stats).
int nf_floor(double seconds);

// Makes `count` getppid() system calls; prints ns_per_call= (the mean).
int null_syscalls(long count);

struct SnapshotOptions {
  bool host = false;               // the host's CPU ticks and steal ticks (/proc/stat)
  int pid = 0;                     // > 0: this process's CPU ns, wall clock ns, RSS
  std::uint16_t metrics_port = 0;  // > 0: each BPF program's run ns and runs, from /metrics
};
// Prints one key=value line a reading, for `delta`.
int snapshot(const SnapshotOptions& options);

// Prints "figure value" lines for what changed between two snapshots that
// both have it: steal_percent (of the host's CPU time), cpu_percent (of one
// core) and rss_mib (the later one), ns_PROGRAM (mean ns a run).
int delta(const std::string& before_path, const std::string& after_path);

// Shared helpers.
[[noreturn]] void throw_errno(const std::string& what);
void say(const std::string& line);
// One HTTP/1.0 GET of /metrics from 127.0.0.1:port: the response, headers and all.
std::string scrape(std::uint16_t port);

}  // namespace earshot::bench

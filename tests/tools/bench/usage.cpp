// snapshot and delta: the daemon's CPU time and memory, the host's steal
// time and the BPF programs' run counters at one moment, and what changed
// between two such moments.
#include <dirent.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "bench.h"
#include "common/error.h"

namespace earshot::bench {

namespace {

using Snapshot = std::map<std::string, double>;

std::uint64_t monotonic_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(now.tv_nsec);
}

// ns on a CPU of all the process's threads: schedstat counts ns, where
// utime and stime in /proc/PID/stat count ticks of 10 ms, too coarse here.
std::uint64_t cpu_ns_of(int pid) {
  std::string tasks = fmt::format("/proc/{}/task", pid);
  DIR* dir = ::opendir(tasks.c_str());
  if (dir == nullptr) throw_errno("open " + tasks);
  std::uint64_t sum = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream schedstat(tasks + "/" + entry->d_name + "/schedstat");
    std::uint64_t ns = 0;
    if (schedstat >> ns) sum += ns;  // a thread that just exited has none
  }
  ::closedir(dir);
  return sum;
}

std::uint64_t rss_kib_of(int pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string key;
  while (status >> key) {
    std::uint64_t kib = 0;
    if (key == "VmRSS:" && status >> kib) return kib;
    status.ignore(4096, '\n');
  }
  throw Error(fmt::format("no VmRSS in /proc/{}/status", pid));
}

Snapshot read_snapshot(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the snapshot " + path);
  Snapshot snapshot;
  std::string line;
  while (std::getline(in, line)) {
    auto equals = line.find('=');
    if (equals != std::string::npos)
      snapshot[line.substr(0, equals)] = std::strtod(line.c_str() + equals + 1, nullptr);
  }
  return snapshot;
}

// after[key] - before[key]; none unless both have it.
std::optional<double> grew(const Snapshot& before, const Snapshot& after, const std::string& key) {
  auto b = before.find(key), a = after.find(key);
  if (b == before.end() || a == after.end()) return std::nullopt;
  return a->second - b->second;
}

// {program, value} of a line `name{program="PROGRAM"} VALUE` of /metrics.
std::optional<std::pair<std::string, double>> program_counter(const std::string& line,
                                                              const std::string& name) {
  const std::string start = name + "{program=\"";
  if (line.rfind(start, 0) != 0) return std::nullopt;
  auto quote = line.find('"', start.size());
  auto space = line.rfind(' ');
  if (quote == std::string::npos || space == std::string::npos || space < quote)
    return std::nullopt;
  return std::pair{line.substr(start.size(), quote - start.size()),
                   std::strtod(line.c_str() + space + 1, nullptr)};
}

}  // namespace

int snapshot(const SnapshotOptions& o) {
  if (o.host) {
    // The first line of /proc/stat: "cpu user nice system idle iowait irq softirq steal ...",
    // in ticks; steal is time the hypervisor gave other guests.
    std::ifstream stat("/proc/stat");
    std::string cpu;
    std::uint64_t ticks[8] = {}, total = 0;
    stat >> cpu;
    for (auto& t : ticks) stat >> t;
    if (cpu != "cpu" || !stat) throw Error("cannot read /proc/stat");
    for (auto t : ticks) total += t;
    say(fmt::format("host_ticks={}", total));
    say(fmt::format("host_steal_ticks={}", ticks[7]));
  }
  if (o.pid > 0) {
    say(fmt::format("wall_ns={}", monotonic_ns()));
    say(fmt::format("cpu_ns={}", cpu_ns_of(o.pid)));
    say(fmt::format("rss_kib={}", rss_kib_of(o.pid)));
  }
  if (o.metrics_port > 0) {
    std::istringstream lines(scrape(o.metrics_port));
    std::string line;
    while (std::getline(lines, line)) {
      if (auto seconds = program_counter(line, "earshot_bpf_run_seconds_total"))
        say(fmt::format("bpf_run_ns.{}={:.0f}", seconds->first, seconds->second * 1e9));
      if (auto runs = program_counter(line, "earshot_bpf_runs_total"))
        say(fmt::format("bpf_runs.{}={:.0f}", runs->first, runs->second));
    }
  }
  return 0;
}

int delta(const std::string& before_path, const std::string& after_path) {
  Snapshot before = read_snapshot(before_path), after = read_snapshot(after_path);
  auto ticks = grew(before, after, "host_ticks");
  auto steal = grew(before, after, "host_steal_ticks");
  if (ticks && steal && *ticks > 0) say(fmt::format("steal_percent {:.6g}", 100 * *steal / *ticks));
  auto wall = grew(before, after, "wall_ns");
  auto cpu = grew(before, after, "cpu_ns");
  // A thread that exited between the two took its time along: never below 0.
  if (wall && cpu && *wall > 0)
    say(fmt::format("cpu_percent {:.6g}", 100 * std::max(0.0, *cpu) / *wall));
  if (auto rss = after.find("rss_kib"); rss != after.end())
    say(fmt::format("rss_mib {:.6g}", rss->second / 1024));
  const std::string runs_key = "bpf_runs.";
  for (const auto& [key, value] : after) {
    if (key.rfind(runs_key, 0) != 0) continue;
    std::string program = key.substr(runs_key.size());
    auto runs = grew(before, after, key);
    auto run_ns = grew(before, after, "bpf_run_ns." + program);
    if (runs && run_ns && *runs > 0) say(fmt::format("ns_{} {:.6g}", program, *run_ns / *runs));
  }
  return 0;
}

}  // namespace earshot::bench

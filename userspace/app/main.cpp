// earshot: who is listening, and what leaves the device while they listen.
#include <fmt/format.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include "app/collector.h"
#include "app/devices.h"
#include "app/event_log.h"
#include "common/error.h"
#include "common/log.h"
#include "config/config.h"
#include "export/http_server.h"
#include "kernel/hooks.h"

namespace {

using namespace earshot;

struct Options {
  std::string config_file = "/etc/earshot/earshot.yaml";
  std::optional<std::string> listen_address;
  std::optional<std::string> log_format;
  std::optional<std::string> log_level;
  bool check_config = false;
};

spdlog::level::level_enum to_spdlog(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::trace:
      return spdlog::level::trace;
    case config::LogLevel::debug:
      return spdlog::level::debug;
    case config::LogLevel::info:
      return spdlog::level::info;
    case config::LogLevel::warn:
      return spdlog::level::warn;
    case config::LogLevel::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

// The watched devices (microphones and cameras, by kernel dev_t) and which are cameras.
struct Watched {
  std::map<std::uint32_t, std::string> labels;
  std::set<std::uint32_t> cameras;
};

Watched watched(const config::CaptureConfig& capture) {
  Watched w{app::watched_devices(capture), {}};
  for (auto& [dev, label] : app::watched_cameras(capture)) {
    w.labels[dev] = std::move(label);
    w.cameras.insert(dev);
  }
  return w;
}

kernel::HookOptions hook_options(const config::Config& c, const Watched& devices) {
  kernel::HookOptions o;
  for (const auto& ns : c.network.namespaces) o.netns_paths.emplace_back(ns.path);
  o.btf_file = c.kernel.btf_file.path;
  o.libasound_path = c.capture.libasound.path;
  if (!c.capture.libpulse.path.empty())
    o.library_paths[std::string(kernel::kLibpulse)] = c.capture.libpulse.path;
  if (!c.capture.libpipewire.path.empty())
    o.library_paths[std::string(kernel::kLibpipewire)] = c.capture.libpipewire.path;
  o.grace_ns = static_cast<std::uint64_t>(c.correlation.grace.count()) * 1'000'000ULL;
  kernel::PlanRequest& plan = o.plan;
  plan.disabled_hooks.insert(c.kernel.disabled_hooks.begin(), c.kernel.disabled_hooks.end());
  plan.tiers = c.capture.tiers;
  plan.dns_tcx = c.network.dns_hook != config::DnsHook::cgroup;
  plan.dns_cgroup = c.network.dns_hook != config::DnsHook::tcx;
  // Extra nodes may be stand-ins that are not ALSA or V4L2: only the syscall tier sees them.
  plan.extra_devices = !c.capture.extra_devices.empty() || !c.capture.extra_cameras.empty();
  plan.watched_devices = devices.labels.size();
  plan.watched_cameras = devices.cameras.size();
  plan.gateway = c.gateway.enabled;
  if (c.gateway.enabled) o.lan_interfaces = c.gateway.lan_interfaces;
  return o;
}

// The CLI overrides the file, as in other Prometheus exporters.
config::Config effective_config(const Options& opts) {
  config::Config c = config::load_file(opts.config_file);
  try {
    if (opts.listen_address)
      c.web.listen_address = config::parse_listen_address(*opts.listen_address);
    if (opts.log_format) c.log.format = config::parse_log_format(*opts.log_format);
    if (opts.log_level) c.log.level = config::parse_log_level(*opts.log_level);
  } catch (const Error& e) {
    throw Error(fmt::format("command line: {}", e.what()));
  }
  return c;
}

std::vector<std::uint32_t> device_numbers(const Watched& devices) {
  std::vector<std::uint32_t> devs;
  for (const auto& [dev, label] : devices.labels) devs.push_back(dev);
  return devs;
}

int check_config(const config::Config& c, const Watched& devices) {
  std::printf("config: ok\n");
  std::printf("watched capture devices: %zu\n", devices.labels.size());
  for (const auto& [dev, label] : devices.labels)
    std::printf("  %s (%u:%u, %s)\n", label.c_str(), dev >> 20, dev & 0xfffff,
                devices.cameras.count(dev) ? "camera" : "microphone");
  kernel::KernelHooks hooks(hook_options(c, devices));
  hooks.watch_devices(device_numbers(devices), devices.cameras);
  std::printf("btf: %s\n", hooks.btf_source().c_str());
  int attached = 0;
  std::printf("hooks:\n");
  for (const auto& h : hooks.status()) {
    std::printf("  %-28s %-14s %s\n", h.hook.c_str(), h.attached ? "attached" : "NOT attached",
                h.detail.c_str());
    attached += h.attached;
  }
  std::printf("%d of %zu hooks attached; all detached again.\n", attached, hooks.status().size());
  return attached > 0 ? 0 : 1;
}

int serve(const config::Config& c, const Watched& devices) {
  // Signals are taken by sigwait on this thread; every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  kernel::KernelHooks hooks(hook_options(c, devices));
  hooks.require_an_object();
  hooks.watch_devices(device_numbers(devices), devices.cameras);
  int attached = 0;
  for (const auto& h : hooks.status()) attached += h.attached;
  log::info("hooks attached", {{"attached", std::to_string(attached)},
                               {"of", std::to_string(hooks.status().size())}});

  app::EventLog events(c.events.file);
  app::Collector collector(c, hooks, devices.labels, events);
  collector.set_camera_devices(devices.cameras);
  collector.harvest();
  // Loading BTF and BPF objects peaks the heap at start; give it back (about
  // 11 MiB that glibc would otherwise keep resident).
  malloc_trim(0);
  exporter::HttpServer http(
      c.web.listen_address.host, c.web.listen_address.port,
      {[&] { return collector.snapshot(); }, [&] { return collector.sessions_json(); }});
  log::info("listening", {{"address", http.address()}});

  std::jthread worker([&](std::stop_token stop) { collector.run(stop); });
  int sig = 0;
  sigwait(&signals, &sig);
  log::info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  worker.request_stop();
  worker.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  CLI::App cli{
      "earshot: who is listening, and what leaves this device while they listen.\n"
      "Counts the bytes each process sends and to whom (eBPF on netfilter), sees which\n"
      "process captures from a microphone, and serves both as Prometheus metrics."};
  cli.set_version_flag("--version", std::string("earshot ") + EARSHOT_VERSION);
  cli.add_option("--config.file", opts.config_file, "YAML configuration file")
      ->capture_default_str();
  cli.add_option(
      "--web.listen-address", opts.listen_address,
      "Address for /metrics and the API (overrides web.listen_address; default 127.0.0.1:9737)");
  cli.add_option("--log.format", opts.log_format, "logfmt or json (overrides log.format)");
  cli.add_option("--log.level", opts.log_level,
                 "trace, debug, info, warn or error (overrides log.level)");
  cli.add_flag("--check-config", opts.check_config,
               "Validate the config, attach and detach every hook, print which work; exit 0 or 1");
  CLI11_PARSE(cli, argc, argv);

  config::Config c;
  try {
    c = effective_config(opts);
  } catch (const Error& e) {
    std::fprintf(stderr, "earshot: %s\n", e.what());
    return 1;
  }
  log::setup(c.log.format == config::LogFormat::json ? log::Format::json : log::Format::logfmt,
             to_spdlog(c.log.level));
  try {
    auto devices = watched(c.capture);
    if (opts.check_config) return check_config(c, devices);
    if (geteuid() != 0)
      log::warn(
          "not running as root: loading BPF needs CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and "
          "CAP_SYS_ADMIN");
    return serve(c, devices);
  } catch (const Error& e) {
    log::error("cannot run", {{"error", e.what()}});
    if (opts.check_config) std::fprintf(stderr, "earshot: %s\n", e.what());
    return 1;
  }
}

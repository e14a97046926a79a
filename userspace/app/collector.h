#pragma once
// The collector: drains capture events from the ring buffer as they come,
// reads the counting maps every harvest.interval, names what it finds (/proc,
// DNS answers, the configured destination labels) and hands it all to the
// model (model/monitor.h), writing out the event lines it returns. One
// thread runs it; scrapes copy a snapshot under the lock.
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stop_token>
#include <string>

#include "app/gateway_collector.h"
#include "config/config.h"
#include "export/snapshot.h"
#include "kernel/abi.h"
#include "kernel/bpf_handles.h"
#include "kernel/hooks.h"
#include "kernel/map_reader.h"
#include "kernel/procfs_poller.h"
#include "model/monitor.h"
#include "resolve/destination_names.h"
#include "resolve/name_table.h"
#include "resolve/proc_reader.h"
#include "resolve/sound_server.h"

namespace earshot::app {

class EventLog;

class Collector {
 public:
  Collector(const config::Config& config, kernel::KernelHooks& hooks,
            std::map<std::uint32_t, std::string> device_labels, EventLog& events);
  ~Collector();

  // Runs until stop is requested.
  void run(std::stop_token stop);
  // One harvest now (tests and start-up).
  void harvest();
  // Which of the watched devices (kernel dev_t) are cameras; before the first harvest.
  void set_camera_devices(std::set<std::uint32_t> cameras) { cameras_ = std::move(cameras); }

  exporter::Snapshot snapshot() const;
  nlohmann::json sessions_json() const;

  // Ring buffer callbacks.
  void on_event(const earshot_event& event);
  void on_dns_answer(const std::uint8_t* payload, std::size_t len);

 private:
  struct Identity {
    std::string process;
    std::string unit;
  };
  Identity identify(std::uint32_t tgid, std::uint64_t start_ns, const char* comm_hint);
  std::string device_label(Tier tier, std::uint32_t dev, const std::string& pcm_name) const;
  // A sound server tier's open: the server the client records through.
  model::ProcessRef sound_server(const model::HandleId& id);
  void capture_opened(std::uint64_t ts, const model::HandleId& id, std::uint32_t dev,
                      std::uint64_t start_ns, const std::string& comm, const std::string& pcm_name);
  void capture_closed(std::uint64_t ts, const model::HandleCount& final_count);
  // The procfs tier: one poll of /proc/asound, its changes handed over as
  // that tier's opens, closes and frames.
  void poll_procfs();
  void write(const model::EventLines& lines);

  const config::Config& config_;
  kernel::KernelHooks& hooks_;
  kernel::MapReader maps_;
  kernel::RingBuffer ring_;
  std::map<std::uint32_t, std::string> device_labels_;
  std::set<std::uint32_t> cameras_;
  EventLog& events_;
  resolve::ProcReader proc_;
  resolve::SoundServerFinder sound_servers_;
  resolve::DestinationNamer namer_;
  resolve::NameTable dns_;
  GatewayCollector gateway_;  // gateway mode; uses maps_, namer_ and dns_
  std::string kernel_release_;
  kernel::ProcfsPoller procfs_poller_;
  kernel::ProcfsTracker procfs_tracker_;
  // Names of processes, touched only by the collector thread.
  std::map<model::ProcessKey, Identity> identities_;

  mutable std::mutex mutex_;  // guards monitor_, which snapshot() reads
  model::Monitor monitor_;
};

}  // namespace earshot::app

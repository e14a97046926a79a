#include "app/collector.h"

#include <bpf/bpf.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/utsname.h>
#include <time.h>

#include <chrono>
#include <cstring>

#include "app/event_log.h"
#include "common/error.h"
#include "common/log.h"
#include "model/label_value.h"
#include "resolve/dns_parser.h"

namespace earshot::app {

namespace {

std::uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// Monotonic ns (bpf_ktime_get_ns) -> RFC 3339 UTC wall time.
std::string wall_time(std::uint64_t monotonic_ns) {
  std::int64_t offset = static_cast<std::int64_t>(clock_ns(CLOCK_REALTIME)) -
                        static_cast<std::int64_t>(clock_ns(CLOCK_MONOTONIC));
  std::int64_t wall = static_cast<std::int64_t>(monotonic_ns) + offset;
  std::time_t secs = wall / 1'000'000'000;
  int ms = static_cast<int>((wall / 1'000'000) % 1000);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(secs), ms);
}

const char* tier_name(std::uint32_t tier) {
  switch (tier) {
    case EARSHOT_TIER_FENTRY:
      return "fentry";
    case EARSHOT_TIER_LSM:
      return "lsm";
    case EARSHOT_TIER_SYSCALL:
      return "syscalls";
    case EARSHOT_TIER_LIBASOUND:
      return "libasound";
    case EARSHOT_TIER_PROCFS:
      return "procfs";
  }
  return "unknown";
}

const char* lost_reason(int reason) {
  switch (reason) {
    case EARSHOT_LOST_RINGBUF_FULL:
      return "ringbuf_full";
    case EARSHOT_LOST_HANDLE_TABLE:
      return "capture_handle_table_full";
    case EARSHOT_LOST_OWNER_TABLE:
      return "socket_owner_table_full";
    case EARSHOT_LOST_DNS_RINGBUF_FULL:
      return "dns_ringbuf_full";
  }
  return "unknown";
}

model::Counters to_model(const earshot_counters& c) {
  model::Counters m;
  m.packets = c.packets;
  m.bytes = c.bytes;
  for (int w = 0; w < model::kWindowCount; ++w) m.window_bytes[w] = c.window_bytes[w];
  return m;
}

int dns_callback(void* ctx, void* data, size_t size) {
  if (size < offsetof(earshot_dns_event, payload)) return 0;
  const auto* e = static_cast<const earshot_dns_event*>(data);
  std::size_t len = std::min<std::size_t>(e->len, size - offsetof(earshot_dns_event, payload));
  static_cast<Collector*>(ctx)->on_dns_answer(e->payload, len);
  return 0;
}

model::SessionConfig session_config(const config::Config& c) {
  model::SessionConfig s;
  s.grace = c.correlation.grace;
  s.idle_gap = c.correlation.idle_gap;
  s.baseline = c.correlation.baseline;
  s.sessions_kept = c.events.sessions_kept;
  return s;
}

int ring_callback(void* ctx, void* data, size_t size) {
  if (size < sizeof(earshot_event)) return 0;
  earshot_event event;
  std::memcpy(&event, data, sizeof event);
  return static_cast<Collector*>(ctx)->on_event_thunk(event);
}

}  // namespace

Collector::Collector(const config::Config& config, kernel::KernelHooks& hooks,
                     std::map<std::uint32_t, std::string> device_labels, EventLog& events)
    : config_(config),
      hooks_(hooks),
      maps_(hooks.maps()),
      device_labels_(std::move(device_labels)),
      events_(events),
      namer_(config.destinations),
      egress_(config.limits.processes, config.limits.destinations_per_process),
      sessions_(session_config(config)),
      policy_({config.policy.capture_allowed, config.policy.upload_allowed}) {
  hooks.set_harvest_interval(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(config.harvest.interval).count()));
  realtime_offset_ns_ = static_cast<std::int64_t>(clock_ns(CLOCK_REALTIME)) -
                        static_cast<std::int64_t>(clock_ns(CLOCK_MONOTONIC));
  utsname u{};
  if (uname(&u) == 0) kernel_release_ = u.release;
  int events_fd = hooks.maps().events;
  if (events_fd >= 0) {
    ring_.reset(ring_buffer__new(events_fd, ring_callback, this, nullptr));
    if (!ring_)
      throw Error(fmt::format("cannot read the event ring buffer: {}", std::strerror(errno)));
    int dns_fd = hooks.maps().dns_events;
    if (dns_fd >= 0 && ring_buffer__add(ring_.get(), dns_fd, dns_callback, this) != 0)
      throw Error(fmt::format("cannot read the DNS ring buffer: {}", std::strerror(errno)));
  }
}

Collector::~Collector() = default;

int Collector::on_event_thunk(const earshot_event& event) {
  return on_event(event);
}

Identity Collector::identify(std::uint32_t tgid, std::uint64_t start_ns, const char* comm_hint) {
  auto key = std::make_pair(tgid, start_ns);
  if (auto it = identities_.find(key); it != identities_.end()) return it->second;
  Identity id;
  if (auto found = proc_.read(tgid, start_ns)) {
    id.process = model::sanitize_label_value(found->process);
    id.unit = model::sanitize_label_value(found->unit);
  } else if (comm_hint && *comm_hint) {
    id.process = model::sanitize_label_value(comm_hint);
  } else {
    // Gone before we could see it, and no exit event named it yet: do not
    // cache, a later exit event may still give the name.
    return Identity{"unknown", ""};
  }
  identities_.emplace(key, id);
  return id;
}

std::string Collector::device_label(const earshot_event& event) const {
  if (event.tier == EARSHOT_TIER_LIBASOUND) {
    std::string name(event.pcm_name, strnlen(event.pcm_name, sizeof event.pcm_name));
    return model::sanitize_label_value("alsa:" + (name.empty() ? std::string("default") : name));
  }
  if (auto it = device_labels_.find(event.dev); it != device_labels_.end()) return it->second;
  return fmt::format("char:{}:{}", event.dev >> EARSHOT_MINORBITS,
                     event.dev & ((1U << EARSHOT_MINORBITS) - 1));
}

int Collector::on_event(const earshot_event& event) {
  std::string comm(event.comm, strnlen(event.comm, sizeof event.comm));
  model::HandleId handle{event.tgid, event.tier, event.handle};
  switch (event.kind) {
    case EARSHOT_EVENT_CAPTURE_OPEN: {
      // Another tier already counted this open (model/tier_dedup.h).
      if (auto counted =
              dedup_.opened(handle, event.tier == EARSHOT_TIER_LIBASOUND ? 0 : event.dev)) {
        log::debug("capture open already counted", {{"pid", std::to_string(event.tgid)},
                                                    {"tier", tier_name(event.tier)},
                                                    {"counted_as", tier_name(counted->tier)}});
        break;
      }
      Identity who = identify(event.tgid, event.start_ns, comm.c_str());
      std::string device = device_label(event);
      {
        std::lock_guard lock(mutex_);
        if (captures_.opened(handle, {who.process, who.unit, device}))
          sessions_.on(model::CaptureOpened{event.ts_ns,
                                            handle_id(handle, true),
                                            {event.tgid, event.start_ns, who.process},
                                            device,
                                            true});
      }
      events_.write({{"event", "capture_open"},
                     {"time", wall_time(event.ts_ns)},
                     {"process", who.process},
                     {"unit", who.unit},
                     {"pid", event.tgid},
                     {"device", device},
                     {"tier", tier_name(event.tier)}});
      log::debug("capture open",
                 {{"process", who.process}, {"device", device}, {"tier", tier_name(event.tier)}});
      break;
    }
    case EARSHOT_EVENT_CAPTURE_CLOSE: {
      if (!dedup_.closed(handle)) break;  // a duplicate's close
      std::optional<model::CaptureSeriesKey> series;
      {
        std::lock_guard lock(mutex_);
        credit_final_frames(handle, event.ts_ns, event.frames, event.bytes);
        series = captures_.closed(handle);
        if (series) sessions_.on(model::CaptureClosed{event.ts_ns, handle_id(handle, false)});
        handle_ids_.erase(handle);
        handle_progress_.erase(handle);
      }
      if (series)
        events_.write({{"event", "capture_close"},
                       {"time", wall_time(event.ts_ns)},
                       {"process", series->process},
                       {"unit", series->unit},
                       {"pid", event.tgid},
                       {"device", series->device},
                       {"tier", tier_name(event.tier)}});
      break;
    }
    case EARSHOT_EVENT_PROCESS_EXIT: {
      dedup_.process_exited(event.tgid);
      // Name it now if nothing has: this is the last chance.
      auto key = std::make_pair(event.tgid, event.start_ns);
      if (!identities_.count(key) && !comm.empty())
        identities_.emplace(key, Identity{model::sanitize_label_value(comm), ""});
      std::vector<std::pair<model::HandleId, model::CaptureSeriesKey>> closed;
      {
        std::lock_guard lock(mutex_);
        // The handles stay in the map until we forget them: their last frames are still there.
        for (auto it = handle_ids_.lower_bound({event.tgid, 0, 0});
             it != handle_ids_.end() && it->first.tgid == event.tgid; ++it) {
          if (auto h = maps_.capture_handle({it->first.tgid, it->first.tier, it->first.handle}))
            credit_final_frames(it->first, event.ts_ns, h->frames, h->bytes);
        }
        closed = captures_.process_exited(event.tgid);
        for (const auto& [h, series] : closed) {
          sessions_.on(model::CaptureClosed{event.ts_ns, handle_id(h, false)});
          handle_ids_.erase(h);
          handle_progress_.erase(h);
        }
      }
      for (const auto& [h, series] : closed) {
        maps_.forget_handle(earshot_handle_key{h.tgid, h.tier, h.handle});
        events_.write({{"event", "capture_close"},
                       {"time", wall_time(event.ts_ns)},
                       {"process", series.process},
                       {"unit", series.unit},
                       {"pid", event.tgid},
                       {"device", series.device},
                       {"reason", "process_exit"},
                       {"tier", tier_name(h.tier)}});
      }
      break;
    }
    default:
      break;
  }
  return 0;
}

void Collector::harvest() {
  std::uint64_t now = clock_ns(CLOCK_MONOTONIC);
  // Totals before flows: a packet counted in between lands in the flows, so
  // the reconciliation below can only under-, never over-report a loss.
  kernel::TotalsReading totals = maps_.totals();
  std::vector<kernel::FlowReading> flows = maps_.flows();
  std::vector<kernel::SlotReading> slots = maps_.sock_slots();
  // A process that sent these bytes and has exited since is named only by
  // its exit event: drain the events before naming owners, or its bytes go
  // to "unknown" (seen in the vm lane: a socat gone between two polls).
  if (ring_) ring_buffer__consume(ring_.get());

  std::map<std::uint64_t, Owner> owners;
  auto flow_id = [&](const earshot_flow_key& key) {
    model::FlowId id;
    id.cookie = key.cookie;
    id.family = key.family;
    id.protocol = key.protocol;
    id.dport = key.dport;
    std::memcpy(id.daddr.data(), key.daddr, 16);
    if (key.cookie && !owners.count(key.cookie)) {
      if (auto known = owner_by_cookie_.find(key.cookie); known != owner_by_cookie_.end())
        owners.emplace(key.cookie, known->second);
      else if (auto o = maps_.owner(key.cookie))
        owners.emplace(key.cookie, Owner{o->tgid, o->start_ns});
    }
    return id;
  };
  std::vector<std::pair<model::FlowId, model::Counters>> cumulative;
  cumulative.reserve(flows.size());
  for (const auto& f : flows) cumulative.emplace_back(flow_id(f.key), to_model(f.counters));
  std::vector<model::SlotReading> slot_cumulative;
  slot_cumulative.reserve(slots.size());
  for (const auto& s : slots)
    slot_cumulative.push_back({s.slot, flow_id(s.key), to_model(s.counters)});
  owner_by_cookie_ = std::move(owners);
  // A socket may have counts in both (a slot taken by another socket sends
  // it to the flows map): two growths of one flow, each added once.
  auto growth = flow_deltas_.update(cumulative);
  auto slot_growth = slot_deltas_.update(slot_cumulative);
  growth.insert(growth.end(), slot_growth.begin(), slot_growth.end());

  struct Named {
    Identity who;
    std::string destination;
    model::Counters growth;
    bool attributed;
    Owner owner;
  };
  std::vector<Named> named;
  named.reserve(growth.size());
  for (const auto& [id, g] : growth) {
    resolve::IpAddress address{id.family, id.daddr};
    std::string destination = model::sanitize_label_value(namer_.name(address, &dns_, now));
    auto owner = owner_by_cookie_.find(id.cookie);
    if (owner == owner_by_cookie_.end()) {
      named.push_back({{}, destination, g, false, {}});
    } else {
      named.push_back({identify(owner->second.tgid, owner->second.start_ns, nullptr), destination,
                       g, true, owner->second});
    }
  }

  auto lost = maps_.lost();
  std::lock_guard lock(mutex_);
  for (const auto& n : named) {
    accounted_bytes_ += n.growth.bytes;
    if (n.attributed)
      egress_.add(n.who.process, n.who.unit, n.destination, n.growth);
    else
      egress_.add_unattributed(n.growth);
  }
  const auto& no_socket = totals.slots[EARSHOT_TOTAL_NO_SOCKET];
  if (no_socket.bytes > no_socket_bytes_seen_) {
    model::Counters g;
    g.bytes = no_socket.bytes - no_socket_bytes_seen_;
    egress_.add_unattributed(g);
    no_socket_bytes_seen_ = no_socket.bytes;
  }
  std::uint64_t total = kernel::bytes_seen(totals, slots);
  std::uint64_t explained = accounted_bytes_ + no_socket_bytes_seen_;
  if (total > explained + egress_.unaccounted_bytes())
    egress_.add_unaccounted(total - explained - egress_.unaccounted_bytes());
  for (int r = 0; r < EARSHOT_LOST_REASONS; ++r) lost_[lost_reason(r)] = lost[r];

  // Capture sessions: what each process sent, split by the window the kernel
  // saw when each byte left, summed per (process, destination, window).
  std::map<std::tuple<std::uint32_t, std::uint64_t, std::string, int>,
           std::pair<std::string, std::uint64_t>>
      samples;
  for (const auto& n : named) {
    if (!n.attributed) continue;
    std::uint64_t windowed = 0;
    for (int w = 0; w < model::kWindowCount; ++w) {
      if (!n.growth.window_bytes[w]) continue;
      windowed += n.growth.window_bytes[w];
      auto& s = samples[{n.owner.tgid, n.owner.start_ns, n.destination, w + 1}];
      s.first = n.who.process;
      s.second += n.growth.window_bytes[w];
    }
    if (n.growth.bytes > windowed) {
      auto& s = samples[{n.owner.tgid, n.owner.start_ns, n.destination, 0}];
      s.first = n.who.process;
      s.second += n.growth.bytes - windowed;
    }
  }
  static constexpr model::EgressWindow kWindows[] = {
      model::EgressWindow::none, model::EgressWindow::self, model::EgressWindow::other,
      model::EgressWindow::grace};
  for (const auto& [key, value] : samples) {
    const auto& [tgid, start_ns, destination, window] = key;
    sessions_.on(model::EgressSample{
        now, {tgid, start_ns, value.first}, destination, value.second, kWindows[window]});
  }
  harvest_frames(now);
  finish_sessions(now);
  last_harvest_ns_ = now;
  ++harvests_;
}

std::uint64_t Collector::handle_id(const model::HandleId& handle, bool create) {
  auto it = handle_ids_.find(handle);
  if (it != handle_ids_.end()) return it->second;
  if (!create) return 0;
  return handle_ids_[handle] = next_handle_id_++;
}

void Collector::credit_frames(const model::HandleId& id, std::uint64_t ts, std::uint64_t frames,
                              std::uint64_t bytes, double seconds) {
  auto sid = handle_ids_.find(id);
  if (sid == handle_ids_.end()) return;  // its open event is not drained yet
  sessions_.on(model::CaptureFrames{ts, sid->second, frames, bytes});
  auto& progress = handle_progress_[id];
  if (frames > progress.frames) {
    if (auto series = captures_.series_of(id)) {
      auto& p = capture_progress_[*series];
      p.frames += frames - progress.frames;
      p.seconds += seconds;
    }
    progress.frames = frames;
  }
}

void Collector::harvest_frames(std::uint64_t now) {
  double interval_s = last_harvest_ns_ ? static_cast<double>(now - last_harvest_ns_) / 1e9 : 0;
  auto handles = maps_.capture_handles();
  for (const auto& [id, frames] : procfs_frames_) {
    earshot_handle h{};
    h.frames = frames;
    handles.push_back({earshot_handle_key{id.tgid, id.tier, id.handle}, h});
  }
  for (const auto& [key, h] : handles)
    credit_frames({key.tgid, key.tier, key.handle}, now, h.frames, h.bytes, interval_s);
}

// Frames read since the last harvest, up to the close that removed the handle.
void Collector::credit_final_frames(const model::HandleId& id, std::uint64_t ts,
                                    std::uint64_t frames, std::uint64_t bytes) {
  double since = last_harvest_ns_ && ts > last_harvest_ns_
                     ? static_cast<double>(ts - last_harvest_ns_) / 1e9
                     : 0;
  credit_frames(id, ts, frames, bytes, since);
}

void Collector::finish_sessions(std::uint64_t now) {
  sessions_.tick(now);
  for (const auto& session : sessions_.take_finished()) {
    nlohmann::json line = model::to_json(session, realtime_offset_ns_);
    line["event"] = "session";
    events_.write(line);
    for (const auto& alert : policy_.check(session)) {
      nlohmann::json a = model::to_json(alert, realtime_offset_ns_);
      a["event"] = "alert";
      events_.write(a);
    }
  }
  for (const auto& session : sessions_.open_sessions()) {
    for (const auto& alert : policy_.check(session)) {
      nlohmann::json a = model::to_json(alert, realtime_offset_ns_);
      a["event"] = "alert";
      events_.write(a);
    }
  }
}

void Collector::on_dns_answer(const std::uint8_t* payload, std::size_t len) {
  auto response = resolve::parse_dns_response(std::span<const std::uint8_t>(payload, len));
  std::size_t named = dns_.learn(response, clock_ns(CLOCK_MONOTONIC));
  if (named) log::debug("dns answer", {{"addresses", std::to_string(named)}});
}

void Collector::poll_procfs() {
  std::uint64_t now = clock_ns(CLOCK_MONOTONIC);
  auto readings = procfs_poller_.read();
  // Every BPF tier's open that this reading shows was emitted before it:
  // drain them first, so a BPF tier, not the poll, counts the open.
  if (ring_) ring_buffer__consume(ring_.get());
  kernel::ProcfsChanges changes = procfs_tracker_.update(readings);
  auto synthesize = [&](std::uint32_t kind, std::uint64_t handle, std::uint32_t tgid,
                        std::uint32_t dev) {
    earshot_event e{};
    e.ts_ns = now;
    e.kind = kind;
    e.tier = EARSHOT_TIER_PROCFS;
    e.handle = handle;
    e.tgid = e.tid = tgid;
    e.dev = dev;
    on_event(e);
  };
  for (const auto& c : changes.closed) {
    procfs_frames_.erase({c.tgid, EARSHOT_TIER_PROCFS, c.handle});
    synthesize(EARSHOT_EVENT_CAPTURE_CLOSE, c.handle, c.tgid, c.dev);
  }
  for (const auto& o : changes.opened)
    synthesize(EARSHOT_EVENT_CAPTURE_OPEN, o.handle, o.tgid, o.dev);
  for (const auto& f : changes.frames)
    procfs_frames_[{f.tgid, EARSHOT_TIER_PROCFS, f.handle}] = f.frames;
}

void Collector::run(std::stop_token stop) {
  using namespace std::chrono;
  auto interval = config_.harvest.interval;
  auto next = steady_clock::now() + interval;
  auto procfs_next = steady_clock::now();
  while (!stop.stop_requested()) {
    if (hooks_.procfs_poll() && steady_clock::now() >= procfs_next) {
      try {
        poll_procfs();
      } catch (const Error& e) {
        log::error("procfs poll failed", {{"error", e.what()}});
      }
      procfs_next = steady_clock::now() + config_.capture.procfs_interval;
    }
    hooks_.refresh_interfaces();
    auto wait = duration_cast<milliseconds>(next - steady_clock::now());
    int timeout = static_cast<int>(std::clamp<long long>(wait.count(), 0, 100));
    if (ring_) {
      int n = ring_buffer__poll(ring_.get(), timeout);
      if (n < 0 && n != -EINTR)
        log::error("ring buffer poll failed", {{"error", std::strerror(-n)}});
    } else {
      std::this_thread::sleep_for(milliseconds(timeout));
    }
    if (steady_clock::now() >= next) {
      try {
        harvest();
      } catch (const Error& e) {
        log::error("harvest failed", {{"error", e.what()}});
      }
      next += interval;
      if (next < steady_clock::now()) next = steady_clock::now() + interval;
    }
  }
}

exporter::Snapshot Collector::snapshot() const {
  exporter::Snapshot s;
  s.version = EARSHOT_VERSION;
  s.kernel = kernel_release_;
  for (const auto& h : hooks_.status()) s.hooks.push_back({h.hook, h.attached, h.detail});
  for (const auto& p : hooks_.loaded_programs()) {
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_prog_get_info_by_fd(p.fd, &info, &len) == 0)
      s.programs.push_back({p.name, info.run_time_ns, info.run_cnt});
  }
  std::lock_guard lock(mutex_);
  s.egress = egress_.series();
  s.unattributed = egress_.unattributed();
  s.unaccounted_bytes = egress_.unaccounted_bytes();
  s.captures = captures_.series();
  s.events_lost = lost_;
  s.harvests = harvests_;
  s.devices_watched = device_labels_.size();
  for (const auto& [key, p] : capture_progress_)
    s.capture_time.push_back({key.process, key.unit, key.device, p.seconds, p.frames});
  for (const auto& [key, n] : sessions_.finished_counts())
    s.sessions.push_back({key.first, std::string(model::to_string(key.second)), n});
  for (const auto& [key, n] : policy_.violation_counts())
    s.policy_violations.push_back({key.first, std::string(model::to_string(key.second)), n});
  return s;
}

nlohmann::json Collector::sessions_json() const {
  std::lock_guard lock(mutex_);
  nlohmann::json open = nlohmann::json::array(), recent = nlohmann::json::array();
  for (const auto& session : sessions_.open_sessions())
    open.push_back(model::to_json(session, realtime_offset_ns_));
  const auto& finished = sessions_.recent();
  for (auto it = finished.rbegin(); it != finished.rend(); ++it)
    recent.push_back(model::to_json(*it, realtime_offset_ns_));
  return {{"open", open}, {"recent", recent}};
}

}  // namespace earshot::app

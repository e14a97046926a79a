#include "app/collector.h"

#include <unistd.h>

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <sys/utsname.h>
#include <time.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "app/event_log.h"
#include "app/kernel_readings.h"
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

std::int64_t realtime_minus_monotonic() {
  return static_cast<std::int64_t>(clock_ns(CLOCK_REALTIME)) -
         static_cast<std::int64_t>(clock_ns(CLOCK_MONOTONIC));
}

model::MonitorConfig monitor_config(const config::Config& c) {
  model::MonitorConfig m;
  m.self_tgid = static_cast<std::uint32_t>(::getpid());
  m.sessions.grace = c.correlation.grace;
  m.sessions.idle_gap = c.correlation.idle_gap;
  m.sessions.baseline = c.correlation.baseline;
  m.sessions.sessions_kept = c.events.sessions_kept;
  m.policy = {c.policy.capture_allowed, c.policy.upload_allowed};
  m.max_processes = c.limits.processes;
  m.max_destinations_per_process = c.limits.destinations_per_process;
  m.realtime_minus_monotonic_ns = realtime_minus_monotonic();
  return m;
}

int ring_callback(void* ctx, void* data, size_t size) {
  if (size < sizeof(earshot_event)) return 0;
  earshot_event event;
  std::memcpy(&event, data, sizeof event);
  static_cast<Collector*>(ctx)->on_event(event);
  return 0;
}

int dns_callback(void* ctx, void* data, size_t size) {
  if (size < offsetof(earshot_dns_event, payload)) return 0;
  const auto* e = static_cast<const earshot_dns_event*>(data);
  std::size_t len = std::min<std::size_t>(e->len, size - offsetof(earshot_dns_event, payload));
  static_cast<Collector*>(ctx)->on_dns_answer(e->payload, len);
  return 0;
}

std::string text(const char* chars, std::size_t size) {
  return std::string(chars, strnlen(chars, size));
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
      gateway_(config, maps_, namer_, dns_, realtime_minus_monotonic()),
      monitor_(monitor_config(config)) {
  hooks.set_harvest_interval(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(config.harvest.interval).count()));
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

void Collector::write(const model::EventLines& lines) {
  for (const auto& line : lines) events_.write(line);
}

Collector::Identity Collector::identify(std::uint32_t tgid, std::uint64_t start_ns,
                                        const char* comm_hint) {
  model::ProcessKey key{tgid, start_ns};
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

std::string Collector::device_label(Tier tier, std::uint32_t dev,
                                    const std::string& pcm_name) const {
  if (tier == Tier::libasound)
    return model::sanitize_label_value("alsa:" + (pcm_name.empty() ? "default" : pcm_name));
  if (auto it = device_labels_.find(dev); it != device_labels_.end()) return it->second;
  return fmt::format("char:{}:{}", dev >> EARSHOT_MINORBITS, dev & ((1U << EARSHOT_MINORBITS) - 1));
}

model::ProcessRef Collector::sound_server(const model::HandleId& id) {
  if (auto server = sound_servers_.find(id.tgid, id.tier)) {
    Identity who = identify(server->pid, 0, server->comm.c_str());
    return {server->pid, 0, who.process};
  }
  return {0, 0, resolve::sound_server_protocol(id.tier)};
}

void Collector::capture_opened(std::uint64_t ts, const model::HandleId& id, std::uint32_t dev,
                               std::uint64_t start_ns, const std::string& comm,
                               const std::string& pcm_name) {
  auto name = [&] {
    Identity who = identify(id.tgid, start_ns, comm.c_str());
    model::CaptureNames names{
        {id.tgid, start_ns, who.process}, who.unit, device_label(id.tier, dev, pcm_name), {}};
    // The library tiers name a PCM or a stream, never a device node: never a camera.
    bool library = id.tier == Tier::libasound || sound_server_tier(id.tier);
    if (!library && cameras_.count(dev)) names.kind = DeviceKind::camera;
    if (sound_server_tier(id.tier)) {
      // The device label says which server held the device: "pulseaudio:SOURCE", "pipewire".
      names.via = sound_server(id);
      names.device = model::sanitize_label_value(id.tier == Tier::libpulse
                                                     ? names.via->name + ":" +
                                                           (pcm_name.empty() ? "default" : pcm_name)
                                                     : names.via->name);
    }
    return names;
  };
  model::Monitor::Opened opened;
  {
    std::lock_guard lock(mutex_);
    opened = monitor_.capture_opened(ts, id, dev, name);
  }
  if (opened.counted_as)
    log::debug("capture open already counted",
               {{"pid", std::to_string(id.tgid)},
                {"tier", std::string(to_string(id.tier))},
                {"counted_as", std::string(to_string(opened.counted_as->tier))}});
  write(opened.lines);
}

void Collector::capture_closed(std::uint64_t ts, const model::HandleCount& final_count) {
  model::EventLines lines;
  {
    std::lock_guard lock(mutex_);
    lines = monitor_.capture_closed(ts, final_count);
  }
  write(lines);
}

void Collector::on_event(const earshot_event& event) {
  auto id = handle_of(event.tgid, event.tier, event.handle);
  switch (event.kind) {
    case EARSHOT_EVENT_CAPTURE_OPEN:
      if (id)
        capture_opened(event.ts_ns, *id, event.dev, event.start_ns,
                       text(event.comm, sizeof event.comm),
                       text(event.pcm_name, sizeof event.pcm_name));
      break;
    case EARSHOT_EVENT_CAPTURE_CLOSE:
      if (id) capture_closed(event.ts_ns, {*id, event.frames, event.bytes});
      break;
    case EARSHOT_EVENT_PROCESS_EXIT: {
      // Name it now if nothing has: this is the last chance.
      std::string comm = text(event.comm, sizeof event.comm);
      model::ProcessKey key{event.tgid, event.start_ns};
      if (!identities_.count(key) && !comm.empty())
        identities_.emplace(key, Identity{model::sanitize_label_value(comm), ""});
      auto final_count = [&](const model::HandleId& h) -> std::optional<model::HandleCount> {
        if (auto counts = maps_.capture_handle(handle_key(h)))
          return model::HandleCount{h, counts->frames, counts->bytes};
        return std::nullopt;
      };
      model::Monitor::Exited exited;
      {
        std::lock_guard lock(mutex_);
        exited = monitor_.process_exited(event.ts_ns, event.tgid, final_count);
      }
      for (const auto& h : exited.closed) maps_.forget_handle(handle_key(h));
      write(exited.lines);
      break;
    }
    default:
      break;
  }
}

void Collector::harvest() {
  std::uint64_t now = clock_ns(CLOCK_MONOTONIC);
  model::EgressReading reading = read_egress(maps_);
  // A process that sent these bytes and has exited since is named only by
  // its exit event: drain the events before naming owners, or its bytes go
  // to "unknown" (seen in the vm lane: a socat gone between two polls).
  if (ring_) ring_buffer__consume(ring_.get());

  auto lookup = [&](std::uint64_t cookie) -> std::optional<model::ProcessKey> {
    if (auto o = maps_.owner(cookie)) return model::ProcessKey{o->tgid, o->start_ns};
    return std::nullopt;
  };
  std::vector<model::FlowGrowth> growth;
  {
    std::lock_guard lock(mutex_);
    growth = monitor_.egress_growth(reading, lookup);
  }
  std::vector<model::NamedGrowth> named;
  named.reserve(growth.size());
  for (auto& g : growth) {
    resolve::IpAddress address{g.flow.family, g.flow.daddr};
    model::NamedGrowth n{std::move(g), {}, {}, {}};
    n.destination = model::sanitize_label_value(namer_.name(address, &dns_, now));
    if (n.flow.owner) {
      Identity who = identify(n.flow.owner->tgid, n.flow.owner->start_ns, nullptr);
      n.process = who.process;
      n.unit = who.unit;
    }
    named.push_back(std::move(n));
  }
  auto handles = read_handles(maps_);
  auto lost = read_lost(maps_);
  model::EventLines lines;
  {
    std::lock_guard lock(mutex_);
    lines = monitor_.harvested(now, named, reading, std::move(handles), lost);
  }
  write(lines);
  write(gateway_.harvest(now));
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
  for (const auto& c : changes.closed)
    capture_closed(now, {{c.tgid, Tier::procfs, c.handle}, 0, 0});
  for (const auto& o : changes.opened)
    capture_opened(now, {o.tgid, Tier::procfs, o.handle}, o.dev, 0, "", "");
  std::lock_guard lock(mutex_);
  for (const auto& f : changes.frames)
    monitor_.polled_frames({f.tgid, Tier::procfs, f.handle}, f.frames);
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
  s.devices_watched = device_labels_.size();
  gateway_.fill(s);
  std::lock_guard lock(mutex_);
  s.egress = monitor_.egress().series();
  s.unattributed = monitor_.egress().unattributed();
  s.unaccounted_bytes = monitor_.egress().unaccounted_bytes();
  s.captures = monitor_.captures().series();
  for (LostReason r : kLostReasons)
    s.events_lost[std::string(to_string(r))] = monitor_.lost()[static_cast<int>(r)];
  s.harvests = monitor_.harvests();
  for (const auto& [key, t] : monitor_.capture_time())
    s.capture_time.push_back({key.process, key.unit, key.device, t.seconds, t.frames, key.kind});
  for (const auto& [key, n] : monitor_.session_counts())
    s.sessions.push_back({key.first, std::string(model::to_string(key.second)), n});
  for (const auto& [key, n] : monitor_.episode_counts())
    s.upload_episodes.push_back(
        {key.process, key.destination, std::string(model::to_string(key.verdict)), key.allowed, n});
  for (const auto& [key, last] : monitor_.last_episodes())
    s.last_episodes.push_back({key.first, key.second, last.seconds, last.bytes});
  for (const auto& [key, n] : monitor_.policy().violation_counts())
    s.policy_violations.push_back({key.first, std::string(model::to_string(key.second)), n});
  return s;
}

nlohmann::json Collector::sessions_json() const {
  nlohmann::json json;
  {
    std::lock_guard lock(mutex_);
    json = monitor_.sessions_json();
  }
  if (gateway_.enabled()) json["traffic"] = gateway_.bursts_json();
  return json;
}

}  // namespace earshot::app

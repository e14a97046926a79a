#include "export/families.h"

namespace earshot::exporter {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

MetricFamily family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

void add(MetricFamily& f, Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

// A family of one sample: totals, gauges of the whole daemon, build info.
MetricFamily single(const char* name, const char* help, MetricType type, Labels labels,
                    double value) {
  MetricFamily f = family(name, help, type);
  add(f, std::move(labels), value);
  return f;
}

}  // namespace

std::vector<MetricFamily> to_families(const Snapshot& s) {
  std::vector<MetricFamily> out;

  auto egress_bytes =
      family("earshot_egress_bytes_total",
             "Bytes sent (IP packet length at LOCAL_OUT), by process and destination.",
             MetricType::Counter);
  auto egress_payload =
      family("earshot_egress_payload_bytes_total",
             "TCP and UDP payload bytes sent (the IP packet less its IP and TCP or UDP headers; "
             "0 for other protocols), by process and destination.",
             MetricType::Counter);
  auto egress_packets = family("earshot_egress_packets_total",
                               "Packets sent, by process and destination.", MetricType::Counter);
  auto ingress_payload =
      family("earshot_ingress_payload_bytes_total",
             "TCP and UDP payload bytes received from the destination (netfilter LOCAL_IN or "
             "cgroup_skb ingress), by process and destination: what came back, which explains "
             "a download's acknowledgements.",
             MetricType::Counter);
  auto ingress_packets =
      family("earshot_ingress_packets_total",
             "Packets received from the destination, by process and destination.",
             MetricType::Counter);
  auto capture_bytes =
      family("earshot_egress_capture_bytes_total",
             "Bytes sent while a capture was live (window self: the sender was capturing; "
             "other: another process was; grace: shortly after a capture ended).",
             MetricType::Counter);
  for (const auto& [key, c] : s.egress) {
    Labels labels{{"process", key.process}, {"unit", key.unit}, {"destination", key.destination}};
    add(egress_bytes, labels, static_cast<double>(c.bytes));
    add(egress_payload, labels, static_cast<double>(c.payload_bytes));
    add(egress_packets, labels, static_cast<double>(c.packets));
    if (c.ingress_packets) {
      add(ingress_payload, labels, static_cast<double>(c.ingress_payload));
      add(ingress_packets, labels, static_cast<double>(c.ingress_packets));
    }
    for (Window window : kWindows) {
      int w = static_cast<int>(window);
      if (!c.window_bytes[w]) continue;
      Labels windowed = labels;
      windowed.push_back({"window", std::string(to_string(window))});
      add(capture_bytes, windowed, static_cast<double>(c.window_bytes[w]));
    }
  }
  out.push_back(std::move(egress_bytes));
  out.push_back(std::move(egress_payload));
  out.push_back(std::move(egress_packets));
  out.push_back(std::move(ingress_payload));
  out.push_back(std::move(ingress_packets));
  out.push_back(std::move(capture_bytes));

  out.push_back(single("earshot_unattributed_egress_bytes_total",
                       "Bytes sent by sockets whose owner is unknown, or by the kernel itself.",
                       MetricType::Counter, {}, static_cast<double>(s.unattributed.bytes)));
  out.push_back(single("earshot_unattributed_ingress_payload_bytes_total",
                       "Payload received by sockets whose owner is unknown, or that the "
                       "counting hook could not match to a socket (no socket at LOCAL_IN: "
                       "unconnected sockets, loopback).",
                       MetricType::Counter, {},
                       static_cast<double>(s.unattributed.ingress_payload)));
  out.push_back(single("earshot_unaccounted_egress_bytes_total",
                       "Bytes the kernel counted in its totals that no series received "
                       "(flow table evictions between harvests).",
                       MetricType::Counter, {}, static_cast<double>(s.unaccounted_bytes)));

  if (s.gateway) {
    auto device_bytes = family("earshot_device_egress_bytes_total",
                               "Bytes LAN devices sent through this gateway (IP packet length, "
                               "before masquerading), by device and destination.",
                               MetricType::Counter);
    auto device_packets =
        family("earshot_device_egress_packets_total",
               "Packets LAN devices sent through this gateway, by device and destination.",
               MetricType::Counter);
    auto device_payload =
        family("earshot_device_egress_payload_bytes_total",
               "Payload bytes (what TCP or UDP carried) LAN devices sent through this gateway, "
               "by device and destination.",
               MetricType::Counter);
    auto device_ingress_payload =
        family("earshot_device_ingress_payload_bytes_total",
               "Payload bytes (what TCP or UDP carried) LAN devices received through this "
               "gateway from the destination, by device and destination: what came back, which "
               "explains a download's acknowledgements.",
               MetricType::Counter);
    auto device_ingress_packets =
        family("earshot_device_ingress_packets_total",
               "Packets LAN devices received through this gateway from the destination, by "
               "device and destination.",
               MetricType::Counter);
    for (const auto& [key, c] : s.device_egress) {
      Labels labels{{"device", key.device}, {"destination", key.destination}};
      add(device_bytes, labels, static_cast<double>(c.bytes));
      add(device_packets, labels, static_cast<double>(c.packets));
      add(device_payload, labels, static_cast<double>(c.payload_bytes));
      if (c.ingress_packets) {
        add(device_ingress_payload, labels, static_cast<double>(c.ingress_payload));
        add(device_ingress_packets, labels, static_cast<double>(c.ingress_packets));
      }
    }
    out.push_back(std::move(device_bytes));
    out.push_back(std::move(device_packets));
    out.push_back(std::move(device_payload));
    out.push_back(std::move(device_ingress_payload));
    out.push_back(std::move(device_ingress_packets));
    auto bursts = family("earshot_device_upload_bursts_total",
                         "Upload bursts of LAN devices: stretches in which a device's payload to "
                         "a destination (less what acknowledged what came back) was steady at a "
                         "voice rate for 2-60 s (verdict audio-upload) or at a video rate for 5 s "
                         "and more (video-upload), by whether the destination is in "
                         "policy.upload_allowed.",
                         MetricType::Counter);
    for (const auto& [key, n] : s.device_bursts)
      add(bursts,
          {{"device", key.device},
           {"destination", key.destination},
           {"verdict", std::string(model::to_string(key.verdict))},
           {"allowed", key.allowed ? "true" : "false"}},
          static_cast<double>(n));
    out.push_back(std::move(bursts));
    out.push_back(single("earshot_device_egress_unaccounted_bytes_total",
                         "Bytes LAN devices sent that no device series received: the kernel's "
                         "(device, destination) table was full.",
                         MetricType::Counter, {}, static_cast<double>(s.device_refused.bytes)));
    out.push_back(single("earshot_device_ingress_unmatched_payload_bytes_total",
                         "Payload bytes forwarded to LAN devices that no device series received: "
                         "the device's address was not known, or it had sent nothing to their "
                         "source (a pair is what a device sent to).",
                         MetricType::Counter, {},
                         static_cast<double>(s.device_ingress_unmatched.ingress_payload)));
    out.push_back(single("earshot_device_ingress_unmatched_packets_total",
                         "Packets forwarded to LAN devices that no device series received.",
                         MetricType::Counter, {},
                         static_cast<double>(s.device_ingress_unmatched.ingress_packets)));
    out.push_back(single("earshot_device_flow_pairs",
                         "(device, destination) pairs in the kernel's fixed-size table; pairs "
                         "idle for gateway.forget_idle_after leave it, their counts kept.",
                         MetricType::Gauge, {}, static_cast<double>(s.device_pairs)));
  }

  auto opens = family("earshot_capture_opens_total", "Capture device opens, by process and device.",
                      MetricType::Counter);
  auto active = family("earshot_capture_active", "Capture handles open now, by process and device.",
                       MetricType::Gauge);
  for (const auto& [key, c] : s.captures) {
    Labels labels{{"process", key.process},
                  {"unit", key.unit},
                  {"device", key.device},
                  {"kind", std::string(to_string(key.kind))}};
    add(opens, labels, static_cast<double>(c.opens));
    add(active, labels, static_cast<double>(c.active));
  }
  out.push_back(std::move(opens));
  out.push_back(std::move(active));

  if (!s.capture_time.empty()) {
    auto seconds = family("earshot_capture_seconds_total",
                          "Seconds a process was capturing (frames flowing), by device and its "
                          "kind (microphone, camera).",
                          MetricType::Counter);
    auto frames = family("earshot_capture_frames_total",
                         "Frames captured: audio frames (bytes for a node neither a PCM nor a "
                         "camera), video buffers dequeued, by process, device and kind.",
                         MetricType::Counter);
    for (const auto& t : s.capture_time) {
      Labels labels{{"process", t.process},
                    {"unit", t.unit},
                    {"device", t.device},
                    {"kind", std::string(to_string(t.kind))}};
      add(seconds, labels, t.seconds);
      add(frames, labels, static_cast<double>(t.frames));
    }
    out.push_back(std::move(seconds));
    out.push_back(std::move(frames));
  }
  if (!s.sessions.empty()) {
    auto sessions = family("earshot_capture_sessions_total",
                           "Finished capture sessions, by verdict.", MetricType::Counter);
    for (const auto& c : s.sessions)
      add(sessions, {{"process", c.process}, {"verdict", c.verdict}}, static_cast<double>(c.count));
    out.push_back(std::move(sessions));
  }
  if (!s.upload_episodes.empty()) {
    auto episodes = family("earshot_upload_episodes_total",
                           "Upload episodes during captures: stretches in which a process's "
                           "payload to a destination stood out from its own baseline, by verdict "
                           "(audio-upload: shaped like speech; video-upload: like a camera's stream) "
                           "and whether the destination is "
                           "in policy.upload_allowed.",
                           MetricType::Counter);
    for (const auto& c : s.upload_episodes)
      add(episodes,
          {{"process", c.process},
           {"destination", c.destination},
           {"verdict", c.verdict},
           {"allowed", c.allowed ? "true" : "false"}},
          static_cast<double>(c.count));
    out.push_back(std::move(episodes));
    auto seconds = family("earshot_upload_episode_last_seconds",
                          "How long the last upload episode of a process to a destination lasted.",
                          MetricType::Gauge);
    auto bytes = family("earshot_upload_episode_last_bytes",
                        "Payload bytes of the last upload episode of a process to a destination.",
                        MetricType::Gauge);
    for (const auto& l : s.last_episodes) {
      Labels labels{{"process", l.process}, {"destination", l.destination}};
      add(seconds, labels, l.seconds);
      add(bytes, labels, static_cast<double>(l.bytes));
    }
    out.push_back(std::move(seconds));
    out.push_back(std::move(bytes));
  }
  if (!s.policy_violations.empty()) {
    auto violations = family("earshot_policy_violations_total",
                             "Captures or uploads the policy does not allow.", MetricType::Counter);
    for (const auto& c : s.policy_violations)
      add(violations, {{"process", c.process}, {"kind", c.kind}}, static_cast<double>(c.count));
    out.push_back(std::move(violations));
  }

  auto hooks = family("earshot_hook_attached",
                      "1 when the hook is attached on this kernel, else 0.", MetricType::Gauge);
  for (const auto& h : s.hooks) add(hooks, {{"hook", h.hook}}, h.attached ? 1 : 0);
  out.push_back(std::move(hooks));

  out.push_back(single("earshot_capture_devices_watched",
                       "Capture device nodes watched: ALSA PCM capture nodes (capture.sysfs) and "
                       "capture.extra_devices, found at start.",
                       MetricType::Gauge, {}, static_cast<double>(s.devices_watched)));

  auto lost = family("earshot_events_lost_total", "Events the kernel could not report, by reason.",
                     MetricType::Counter);
  for (const auto& [reason, n] : s.events_lost)
    add(lost, {{"reason", reason}}, static_cast<double>(n));
  out.push_back(std::move(lost));

  auto run_seconds = family("earshot_bpf_run_seconds_total",
                            "Time spent in each BPF program (needs kernel.bpf_stats_enabled=1).",
                            MetricType::Counter);
  auto runs =
      family("earshot_bpf_runs_total",
             "Runs of each BPF program (needs kernel.bpf_stats_enabled=1).", MetricType::Counter);
  for (const auto& p : s.programs) {
    add(run_seconds, {{"program", p.program}}, static_cast<double>(p.run_time_ns) / 1e9);
    add(runs, {{"program", p.program}}, static_cast<double>(p.run_count));
  }
  out.push_back(std::move(run_seconds));
  out.push_back(std::move(runs));

  out.push_back(single("earshot_harvests_total", "Times the BPF maps were read.",
                       MetricType::Counter, {}, static_cast<double>(s.harvests)));
  out.push_back(single("earshot_build_info", "earshot version and the kernel it runs on.",
                       MetricType::Gauge, {{"version", s.version}, {"kernel", s.kernel}}, 1));
  return out;
}

}  // namespace earshot::exporter

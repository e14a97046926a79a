#include "model/device_bursts.h"

#include <algorithm>
#include <cstdio>

#include "model/event_lines.h"
#include "model/label_value.h"

namespace earshot::model {

std::string mac_key(const std::array<std::uint8_t, 6>& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return text;
}

EpisodeRules gateway_episode_rules() {
  EpisodeRules rules;
  rules.end_gap_seconds = 3;
  return rules;
}

DeviceBursts::DeviceBursts(DeviceBurstsConfig config)
    : config_(std::move(config)), detector_(config_.episodes) {}

bool DeviceBursts::allowed(const std::string& destination) const {
  const auto& list = config_.upload_allowed;
  return list.empty() || std::find(list.begin(), list.end(), destination) != list.end();
}

std::vector<nlohmann::json> DeviceBursts::harvested(MonotonicNs now,
                                                    const std::vector<NamedDeviceGrowth>& growth) {
  for (const auto& g : growth)
    if (g.growth.payload_bytes || g.growth.ingress_packets)
      detector_.add({mac_key(g.flow.mac), g.device, 0}, g.destination, now, shape_of(g.growth));
  std::vector<nlohmann::json> lines;
  for (auto& episode : detector_.tick(now)) {
    if (episode.verdict != Verdict::audio_upload && episode.verdict != Verdict::video_upload)
      continue;
    Key key{episode.sender.name, episode.destination, episode.verdict,
            allowed(episode.destination)};
    if (!counts_.contains(key) && counts_.size() >= config_.max_series)
      key = {kOtherLabel, kOtherLabel, key.verdict, key.allowed};
    ++counts_[key];
    lines.push_back(device_burst_event_line(episode, config_.realtime_minus_monotonic_ns));
    recent_.push_back(std::move(episode));
    if (recent_.size() > config_.kept) recent_.pop_front();
  }
  return lines;
}

nlohmann::json DeviceBursts::json() const {
  nlohmann::json list = nlohmann::json::array();
  for (auto it = recent_.rbegin(); it != recent_.rend(); ++it)
    list.push_back(device_burst_json(*it, config_.realtime_minus_monotonic_ns));
  return list;
}

}  // namespace earshot::model

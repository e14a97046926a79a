#pragma once
// Gateway mode: voice- and video-upload bursts per LAN device. Each
// harvest's growth per (device, destination), what it sent and received
// (shape_of), goes into the same EpisodeDetector that watches processes (the
// sender's key is the device's MAC, its name the device label); every ended
// episode with verdict audio-upload or video-upload is a burst.
// A burst becomes an event line, is listed among the recent ones (the last
// `kept`), and is counted per (device, destination, verdict, allowed).
//
// Pure: fed named growth and times, returns event lines; bounded (the
// detector's pairs, the last `kept` bursts, `max_series` counted label sets,
// the rest under "other").
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/device_ledger.h"
#include "model/upload_episodes.h"

namespace earshot::model {

// The detector's rules on a gateway: the defaults, but an episode ends
// after three quiet seconds, not two. No capture bounds an episode there
// and the traffic's shape is all the evidence: an uneven upload that
// pauses for two seconds would fall into episodes of a second or two,
// too short to show they are uneven, each one passing for a voice upload.
// A voice upload does not pause, so it only costs a second of delay
// (and two uploads less than three seconds apart are one burst).
EpisodeRules gateway_episode_rules();

struct DeviceBurstsConfig {
  EpisodeRules episodes = gateway_episode_rules();
  std::size_t kept = 50;                    // recent bursts listed in /api/sessions
  std::size_t max_series = 1024;            // (device, destination, verdict, allowed) counted apart
  std::vector<std::string> upload_allowed;  // destination labels; empty: anywhere
  std::int64_t realtime_minus_monotonic_ns = 0;
};

class DeviceBursts {
 public:
  struct Key {
    std::string device;
    std::string destination;
    Verdict verdict = Verdict::audio_upload;  // audio_upload or video_upload
    bool allowed = true;                      // destination in upload_allowed, or no list
    auto operator<=>(const Key&) const = default;
  };

  explicit DeviceBursts(DeviceBurstsConfig config = {});

  // One harvest's growth (GatewayAccounting::last_growth()) at now;
  // returns the event lines of the bursts that ended.
  std::vector<nlohmann::json> harvested(MonotonicNs now,
                                        const std::vector<NamedDeviceGrowth>& growth);

  const std::deque<UploadEpisode>& recent() const { return recent_; }  // oldest first
  const std::map<Key, std::uint64_t>& counts() const { return counts_; }
  // The recent bursts, newest first, as /api/sessions lists them.
  nlohmann::json json() const;

 private:
  bool allowed(const std::string& destination) const;

  DeviceBurstsConfig config_;
  EpisodeDetector detector_;
  std::deque<UploadEpisode> recent_;
  std::map<Key, std::uint64_t> counts_;
};

// A device's MAC as the detector's sender key ("02:00:00:aa:bb:cc").
std::string mac_key(const std::array<std::uint8_t, 6>& mac);

}  // namespace earshot::model

#pragma once
// Capture opens and live captures per (process, device): the series behind
// earshot_capture_opens_total and earshot_capture_active.
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/vocabulary.h"

namespace earshot::model {

// One open capture as one detection tier sees it.
struct HandleId {
  std::uint32_t tgid = 0;
  Tier tier{};
  std::uint64_t handle = 0;
  auto operator<=>(const HandleId&) const = default;
};

struct CaptureSeriesKey {
  std::string process;
  std::string unit;
  std::string device;
  DeviceKind kind = DeviceKind::microphone;  // follows from device: adds no series
  auto operator<=>(const CaptureSeriesKey&) const = default;
};

struct CaptureSeries {
  std::uint64_t opens = 0;
  std::uint64_t active = 0;
};

class CaptureLedger {
 public:
  // A new open; returns false (and counts nothing) if this handle is already open.
  bool opened(const HandleId& id, const CaptureSeriesKey& key);
  // The series the handle was counted in; nullopt if it was not open (a
  // close of something never seen open).
  std::optional<CaptureSeriesKey> closed(const HandleId& id);
  // The process exited: every handle it held is closed. Returns those handles.
  std::vector<std::pair<HandleId, CaptureSeriesKey>> process_exited(std::uint32_t tgid);

  const std::map<CaptureSeriesKey, CaptureSeries>& series() const { return series_; }
  // The series an open handle counts in.
  std::optional<CaptureSeriesKey> series_of(const HandleId& id) const {
    auto it = open_.find(id);
    return it == open_.end() ? std::nullopt : std::optional(it->second);
  }
  std::size_t open_handles() const { return open_.size(); }

 private:
  std::map<HandleId, CaptureSeriesKey> open_;
  std::map<CaptureSeriesKey, CaptureSeries> series_;
};

}  // namespace earshot::model

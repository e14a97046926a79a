#pragma once
// The capture devices earshot watches: kernel dev_t -> label.
#include <cstdint>
#include <map>
#include <string>

#include "config/config.h"

namespace earshot::app {

// Every PCM capture node in sysfs (when capture.sysfs) plus capture.extra_devices.
// Throws earshot::Error naming a device that cannot be stat()ed.
std::map<std::uint32_t, std::string> watched_devices(const config::CaptureConfig& capture);

// Every V4L2 video capture node in sysfs (when capture.cameras; asked with
// VIDIOC_QUERYCAP) plus capture.extra_cameras, labelled like the microphones
// ("video0", or the configured path). Throws like watched_devices.
std::map<std::uint32_t, std::string> watched_cameras(const config::CaptureConfig& capture);

}  // namespace earshot::app

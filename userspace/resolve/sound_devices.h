#pragma once
// The ALSA capture PCM nodes of this host, from sysfs, and the device
// numbers BPF compares against. Minors are read, never computed: kernels
// built with CONFIG_SND_DYNAMIC_MINORS hand them out in order of creation.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace earshot::resolve {

struct SoundDevice {
  std::string name;  // "pcmC0D0c", as in /dev/snd/
  unsigned card = 0;
  unsigned device = 0;
  unsigned major = 0;
  unsigned minor = 0;

  bool operator==(const SoundDevice&) const = default;
};

// Capture PCM nodes (pcmC<card>D<dev>c) under sysfs_class_sound, sorted by
// card then device. A missing directory means a host without ALSA: no
// devices, not an error. Throws earshot::Error when a node's `dev` file is
// not "MAJOR:MINOR".
std::vector<SoundDevice> scan_capture_devices(
    const std::filesystem::path& sysfs_class_sound = "/sys/class/sound");

// The kernel's MKDEV(major, minor): what BPF sees as inode->i_rdev.
uint32_t kernel_dev(unsigned major, unsigned minor);

// The same for a userspace dev_t (struct stat's st_rdev), whose encoding differs.
uint32_t kernel_dev_from_rdev(dev_t rdev);

}  // namespace earshot::resolve

// earshot-v4l2-stream: a camera user whose frames earshot's tests count.
//
//   earshot-v4l2-stream stream DEVICE FRAMES
//     a real V4L2 capture node: its current format, 4 mmap buffers,
//     STREAMON, FRAMES buffers dequeued (VIDIOC_DQBUF) and queued again,
//     STREAMOFF; prints "streamed frames=N bytes=B" (B: bytesused summed).
//   earshot-v4l2-stream stand-in DEVICE DQBUFS READS
//     a node that is not V4L2 (a test's stand-in): DQBUFS VIDIOC_DQBUF
//     ioctls (each fails: no frame), then READS reads of 4096 bytes;
//     prints "stood-in dqbuf_failed=N reads=R".
//
// Both print "opened" once the node is open, and hold it --hold-ms before
// and after their work; each kernel object is released on every path.
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace {

using earshot::Error;
using earshot::UniqueFd;

void say(const std::string& line) {
  std::cout << line << std::endl;
}

[[noreturn]] void fail(const std::string& what) {
  throw Error(what + ": " + std::strerror(errno));
}

int xioctl(int fd, unsigned long request, void* arg) {
  int r;
  do {
    r = ::ioctl(fd, request, arg);
  } while (r < 0 && errno == EINTR);
  return r;
}

// One mmap'd buffer of the driver's, unmapped on every path.
class Mapping {
 public:
  Mapping(int fd, std::size_t length, off_t offset) : length_(length) {
    address_ = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
    if (address_ == MAP_FAILED) fail("mmap");
  }
  ~Mapping() {
    if (address_ != MAP_FAILED) ::munmap(address_, length_);
  }
  Mapping(Mapping&& other) noexcept
      : address_(std::exchange(other.address_, MAP_FAILED)), length_(other.length_) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping& operator=(Mapping&&) = delete;

 private:
  void* address_ = MAP_FAILED;
  std::size_t length_ = 0;
};

// Streaming on, and off again on every path.
class Streaming {
 public:
  explicit Streaming(int fd) : fd_(fd) {
    if (xioctl(fd_, VIDIOC_STREAMON, &type_) != 0) fail("VIDIOC_STREAMON");
  }
  ~Streaming() { xioctl(fd_, VIDIOC_STREAMOFF, &type_); }
  Streaming(const Streaming&) = delete;
  Streaming& operator=(const Streaming&) = delete;

 private:
  int fd_;
  int type_ = V4L2_BUF_TYPE_VIDEO_CAPTURE;
};

UniqueFd open_node(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) fail("open " + path);
  say("opened");
  return fd;
}

int stream(const std::string& path, std::uint64_t frames, std::chrono::milliseconds hold) {
  UniqueFd fd = open_node(path);
  std::this_thread::sleep_for(hold);
  v4l2_capability cap{};
  if (xioctl(fd.get(), VIDIOC_QUERYCAP, &cap) != 0) fail("VIDIOC_QUERYCAP");
  std::uint32_t caps =
      (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING))
    throw Error(path + " is not a single-planar streaming capture node");
  v4l2_requestbuffers request{};
  request.count = 4;
  request.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  request.memory = V4L2_MEMORY_MMAP;
  if (xioctl(fd.get(), VIDIOC_REQBUFS, &request) != 0) fail("VIDIOC_REQBUFS");
  std::vector<Mapping> mappings;
  for (std::uint32_t i = 0; i < request.count; ++i) {
    v4l2_buffer buffer{};
    buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buffer.memory = V4L2_MEMORY_MMAP;
    buffer.index = i;
    if (xioctl(fd.get(), VIDIOC_QUERYBUF, &buffer) != 0) fail("VIDIOC_QUERYBUF");
    mappings.emplace_back(fd.get(), buffer.length, static_cast<off_t>(buffer.m.offset));
    if (xioctl(fd.get(), VIDIOC_QBUF, &buffer) != 0) fail("VIDIOC_QBUF");
  }
  std::uint64_t bytes = 0;
  std::uint64_t dequeued = 0;
  {
    Streaming on(fd.get());
    while (dequeued < frames) {
      pollfd p{fd.get(), POLLIN, 0};
      int ready = ::poll(&p, 1, 10'000);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) throw Error("no frame within 10 s");
      v4l2_buffer buffer{};
      buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      buffer.memory = V4L2_MEMORY_MMAP;
      if (xioctl(fd.get(), VIDIOC_DQBUF, &buffer) != 0) {
        if (errno == EAGAIN) continue;
        fail("VIDIOC_DQBUF");
      }
      ++dequeued;
      bytes += buffer.bytesused;
      if (xioctl(fd.get(), VIDIOC_QBUF, &buffer) != 0) fail("VIDIOC_QBUF");
    }
  }
  mappings.clear();
  request.count = 0;  // give the buffers back before closing
  xioctl(fd.get(), VIDIOC_REQBUFS, &request);
  say("streamed frames=" + std::to_string(dequeued) + " bytes=" + std::to_string(bytes));
  std::this_thread::sleep_for(hold);
  return 0;
}

int stand_in(const std::string& path, std::uint64_t dqbufs, std::uint64_t reads,
             std::chrono::milliseconds hold) {
  UniqueFd fd = open_node(path);
  std::this_thread::sleep_for(hold);
  std::uint64_t failed = 0;
  for (std::uint64_t i = 0; i < dqbufs; ++i) {
    v4l2_buffer buffer{};
    buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buffer.memory = V4L2_MEMORY_MMAP;
    if (xioctl(fd.get(), VIDIOC_DQBUF, &buffer) != 0) ++failed;
  }
  std::vector<char> chunk(4096);
  std::uint64_t done = 0;
  for (std::uint64_t i = 0; i < reads; ++i) {
    if (::read(fd.get(), chunk.data(), chunk.size()) <= 0) fail("read " + path);
    ++done;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  say("stood-in dqbuf_failed=" + std::to_string(failed) + " reads=" + std::to_string(done));
  std::this_thread::sleep_for(hold);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"earshot-v4l2-stream: a camera user for earshot's tests"};
  app.require_subcommand(1);
  app.fallthrough();
  std::int64_t hold_ms = 0;
  app.add_option("--hold-ms", hold_ms, "hold the node open this long before and after the work");
  std::string path;
  std::uint64_t frames = 0, dqbufs = 0, reads = 0;
  auto* streaming = app.add_subcommand("stream", "dequeue FRAMES buffers from a V4L2 node");
  streaming->add_option("DEVICE", path)->required();
  streaming->add_option("FRAMES", frames)->required();
  auto* standing_in = app.add_subcommand("stand-in", "DQBUF (failing) and read a stand-in node");
  standing_in->add_option("DEVICE", path)->required();
  standing_in->add_option("DQBUFS", dqbufs)->required();
  standing_in->add_option("READS", reads)->required();
  CLI11_PARSE(app, argc, argv);
  try {
    std::chrono::milliseconds hold(hold_ms);
    if (*streaming) return stream(path, frames, hold);
    return stand_in(path, dqbufs, reads, hold);
  } catch (const Error& e) {
    std::cerr << "earshot-v4l2-stream: " << e.what() << std::endl;
    return 1;
  }
}

// earshot-sound-client: a client of a sound server that records, and
// optionally uploads while it does, for the sound server tests.
//
//   earshot-sound-client pulse [--source NAME] --seconds S [upload options]
//     Records through libpulse (the simple API: pa_stream_connect_record,
//     pa_stream_peek and pa_stream_drop inside), 16 kHz mono S16LE.
//   earshot-sound-client pipewire [--target NAME] --seconds S [upload options]
//     Records through a pw_stream (input direction), 16 kHz mono S16.
//   upload options: --peer ADDR --port PORT [--size BYTES --interval-ms MS]
//     One UDP datagram of --size bytes every --interval-ms to the peer,
//     for as long as the recording runs.
//
// Output: "ready" once connected to the server, "opened" at the first audio
// (the recording and the upload run --seconds from there),
// then "closed frames=F bytes=B sent_datagrams=D".
#include <pipewire/pipewire.h>
#include <pulse/error.h>
#include <pulse/simple.h>
#include <spa/param/audio/format-utils.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "../socket_address.h"
#include "../traffic.h"
#include "common/error.h"

namespace {

using namespace earshot;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kRate = 16000;
constexpr std::size_t kFrameBytes = 2;  // S16, mono

struct Options {
  std::string source;  // pulse source / PipeWire target; empty: the default
  double seconds = 5;
  std::string peer;
  std::uint16_t port = 0;
  std::size_t size = 200;
  std::uint32_t interval_ms = 50;
};

struct Counts {
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
};

// Sends a datagram every interval until stopped; returns how many.
class Uploader {
 public:
  explicit Uploader(const Options& o) {
    if (o.peer.empty()) return;
    auto address = traffic::parse_socket_address(o.peer, o.port);
    sock_.reset(::socket(address.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock_) traffic::throw_errno("socket");
    if (::connect(sock_.get(), address.get(), address.length) != 0) traffic::throw_errno("connect");
    thread_ = std::thread([this, o] {
      std::vector<char> datagram(o.size, 'a');
      auto next = Clock::now();
      while (!stop_) {
        if (::send(sock_.get(), datagram.data(), datagram.size(), 0) ==
            static_cast<ssize_t>(datagram.size()))
          ++sent_;
        next += std::chrono::milliseconds(o.interval_ms);
        std::this_thread::sleep_until(next);
      }
    });
  }
  ~Uploader() { stop(); }
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;
  std::uint64_t stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return sent_;
  }

 private:
  UniqueFd sock_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
};

struct PulseFree {
  void operator()(pa_simple* s) const { pa_simple_free(s); }
};

Counts record_pulse(const Options& o, const std::function<void()>& recording) {
  pa_sample_spec spec{PA_SAMPLE_S16LE, kRate, 1};
  // Fragments of 100 ms, as a voice assistant asks for (the server's
  // default is seconds).
  pa_buffer_attr attr{};
  attr.maxlength = static_cast<std::uint32_t>(-1);
  attr.tlength = attr.prebuf = attr.minreq = static_cast<std::uint32_t>(-1);
  attr.fragsize = kRate * kFrameBytes / 10;
  int error = 0;
  std::unique_ptr<pa_simple, PulseFree> stream(pa_simple_new(
      nullptr, "earshot-sound-client", PA_STREAM_RECORD,
      o.source.empty() ? nullptr : o.source.c_str(), "record", &spec, nullptr, &attr, &error));
  if (!stream) throw Error(std::string("pa_simple_new: ") + pa_strerror(error));
  traffic::say("ready");
  Counts counts;
  std::vector<char> buffer(kRate * kFrameBytes / 10);  // 100 ms
  auto end = Clock::now() + std::chrono::duration<double>(o.seconds);
  while (Clock::now() < end) {
    if (pa_simple_read(stream.get(), buffer.data(), buffer.size(), &error) < 0)
      throw Error(std::string("pa_simple_read: ") + pa_strerror(error));
    if (counts.bytes == 0) {  // the first audio: recording from here
      recording();
      end = Clock::now() + std::chrono::duration<double>(o.seconds);
    }
    counts.bytes += buffer.size();
    counts.frames += buffer.size() / kFrameBytes;
  }
  return counts;
}

// PipeWire: a main loop, a capture stream, a timer that ends the recording.
struct PipeWireRecording {
  pw_main_loop* loop = nullptr;
  pw_stream* stream = nullptr;
  Counts counts;
  bool streaming = false;
  std::function<void()> recording;
  std::function<void()> arm_timer;  // ends the recording after --seconds
};

void on_process(void* data) {
  auto* r = static_cast<PipeWireRecording*>(data);
  pw_buffer* buffer = pw_stream_dequeue_buffer(r->stream);
  if (!buffer) return;
  spa_buffer* b = buffer->buffer;
  if (b->n_datas > 0 && b->datas[0].chunk && b->datas[0].chunk->size > 0) {
    if (!r->streaming) {  // the first audio: recording from here
      r->streaming = true;
      r->recording();
      r->arm_timer();
    }
    const spa_chunk* chunk = b->datas[0].chunk;
    r->counts.bytes += chunk->size;
    r->counts.frames += chunk->stride > 0 ? chunk->size / static_cast<std::uint32_t>(chunk->stride)
                                          : chunk->size / kFrameBytes;
  }
  pw_stream_queue_buffer(r->stream, buffer);
}

void on_timeout(void* data, std::uint64_t) {
  pw_main_loop_quit(static_cast<PipeWireRecording*>(data)->loop);
}

Counts record_pipewire(const Options& o, const std::function<void()>& recording) {
  pw_init(nullptr, nullptr);
  PipeWireRecording r;
  r.recording = recording;
  r.loop = pw_main_loop_new(nullptr);
  if (!r.loop) throw Error("pw_main_loop_new failed");
  pw_stream_events events{};
  events.version = PW_VERSION_STREAM_EVENTS;
  events.process = on_process;
  pw_properties* props = pw_properties_new(PW_KEY_MEDIA_TYPE, "Audio", PW_KEY_MEDIA_CATEGORY,
                                           "Capture", PW_KEY_MEDIA_ROLE, "Communication", nullptr);
  if (!o.source.empty()) pw_properties_set(props, PW_KEY_TARGET_OBJECT, o.source.c_str());
  r.stream = pw_stream_new_simple(pw_main_loop_get_loop(r.loop), "earshot-sound-client", props,
                                  &events, &r);
  if (!r.stream) throw Error("pw_stream_new_simple failed (is PipeWire running?)");
  std::uint8_t pod_buffer[1024];
  spa_pod_builder builder{};
  spa_pod_builder_init(&builder, pod_buffer, sizeof pod_buffer);
  spa_audio_info_raw info{};
  info.format = SPA_AUDIO_FORMAT_S16;
  info.rate = kRate;
  info.channels = 1;
  const spa_pod* params[1] = {spa_format_audio_raw_build(&builder, SPA_PARAM_EnumFormat, &info)};
  int result = pw_stream_connect(
      r.stream, PW_DIRECTION_INPUT, PW_ID_ANY,
      static_cast<pw_stream_flags>(PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS), params,
      1);
  if (result < 0) throw Error("pw_stream_connect: " + errno_text(result));
  traffic::say("ready");
  spa_source* timer = pw_loop_add_timer(pw_main_loop_get_loop(r.loop), on_timeout, &r);
  auto arm = [&](double seconds) {
    timespec timeout{};
    timeout.tv_sec = static_cast<time_t>(seconds);
    timeout.tv_nsec = static_cast<long>((seconds - static_cast<double>(timeout.tv_sec)) * 1e9);
    pw_loop_update_timer(pw_main_loop_get_loop(r.loop), timer, &timeout, nullptr, false);
  };
  r.arm_timer = [&] { arm(o.seconds); };
  arm(o.seconds + 30);  // no audio at all: give up then
  pw_main_loop_run(r.loop);
  pw_stream_destroy(r.stream);
  pw_main_loop_destroy(r.loop);
  pw_deinit();
  return r.counts;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"earshot-sound-client: records through a sound server, optionally uploading"};
  app.require_subcommand(1);
  Options o;
  for (const char* name : {"pulse", "pipewire"}) {
    auto* sub = app.add_subcommand(name, std::string("record through ") + name);
    sub->add_option(std::string(name) == "pulse" ? "--source" : "--target", o.source);
    sub->add_option("--seconds", o.seconds)->capture_default_str();
    sub->add_option("--peer", o.peer, "upload to this address while recording");
    sub->add_option("--port", o.port);
    sub->add_option("--size", o.size, "bytes a datagram")->capture_default_str();
    sub->add_option("--interval-ms", o.interval_ms)->capture_default_str();
  }
  CLI11_PARSE(app, argc, argv);
  try {
    std::unique_ptr<Uploader> uploader;
    auto recording = [&] {
      traffic::say("opened");
      uploader = std::make_unique<Uploader>(o);
    };
    Counts counts =
        app.got_subcommand("pulse") ? record_pulse(o, recording) : record_pipewire(o, recording);
    std::uint64_t sent = uploader ? uploader->stop() : 0;
    traffic::say("closed frames=" + std::to_string(counts.frames) + " bytes=" +
                 std::to_string(counts.bytes) + " sent_datagrams=" + std::to_string(sent));
    return 0;
  } catch (const Error& error) {
    std::cerr << "earshot-sound-client: " << error.what() << std::endl;
    return 1;
  }
}
